import base64
import hashlib
import hmac

import pytest

from xero_sales_orders.xero.webhooks import sign, verify

# Published on an official Xero repo (XeroAPI/XeroWebhooksReceiver#1): an Intent to Receive request.
KEY = "LR+QgKlbRciIPYpi65tTKLaZ3FzLLofCNEQWrRXqWXJeDFrfexzfVI9SmnVuCWDJ4jnjHB9ECtOyxZSofRxwWw=="
BODY = b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, "entropy": "LUWDSUDGSWNZVALZXBEV"}'
SIGNATURE = "BjzNbYUfrzg4g8wxm+dKHaZVrKxr2m75E296fUbD1E4="
ONE_CHAR_OFF = "/jzNbYUfrzg4g8wxm+dKHaZVrKxr2m75E296fUbD1E4="
WITH_DECODED_KEY = "Mq69bgTi4NjaAH80DD36XGZTvVkmO6OvkkRpU2zYijA="


def test_published_vector_signs_and_verifies():
	assert len(BODY) == 95
	assert sign(BODY, KEY) == SIGNATURE
	assert verify(BODY, SIGNATURE, KEY)


def test_one_character_off_signature_is_refused():
	assert not verify(BODY, ONE_CHAR_OFF, KEY)


def test_signature_made_with_the_base64_decoded_key_is_refused():
	decoded_key_signature = base64.b64encode(
		hmac.new(base64.b64decode(KEY), BODY, hashlib.sha256).digest()
	).decode()
	assert decoded_key_signature == WITH_DECODED_KEY
	assert not verify(BODY, WITH_DECODED_KEY, KEY)


@pytest.mark.parametrize(
	"signature", [None, "", " ", "not base64 at all", "é" * 44, SIGNATURE + "\n", SIGNATURE[:-1]]
)
def test_missing_or_malformed_signatures_are_refused(signature):
	assert not verify(BODY, signature, KEY)


def test_reserialised_body_no_longer_matches():
	reserialised = (
		b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"LUWDSUDGSWNZVALZXBEV"}'
	)
	assert not verify(reserialised, SIGNATURE, KEY)


def test_wrong_key_is_refused():
	assert not verify(BODY, SIGNATURE, "xso-sandbox-webhook-key")
	assert not verify(BODY, SIGNATURE, "")


def test_text_body_is_rejected_to_force_raw_bytes():
	with pytest.raises(TypeError):
		sign(BODY.decode(), KEY)

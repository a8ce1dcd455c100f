"""Links from Xero are stored and shown only when https:// (or the local sandbox over http)."""

import pytest

from xero_sales_orders.core.links import is_safe_link, safe_link


@pytest.mark.parametrize(
	"url",
	[
		"https://go.xero.com/app/!abc12/invoicing/view/5b0c3a4e-8f0e-4d3a-9a2b-000000000001",
		"https://in.xero.com/aBcDeF123",
		"HTTPS://in.xero.com/x",
		"http://127.0.0.1:8790/online/INV-1",
		"http://localhost:8790/online/INV-1",
		"http://[::1]:8790/x",
		"  https://in.xero.com/x  ",
	],
)
def test_https_and_the_local_sandbox_are_links(url):
	assert safe_link(url) == url.strip()
	assert is_safe_link(url)


@pytest.mark.parametrize(
	"url",
	[
		"javascript:alert(1)",
		"JaVaScRiPt:alert(document.cookie)",
		"java\nscript:alert(1)",
		" javascript://in.xero.com/%0aalert(1)",
		"data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox(1)",
		"http://evil.example.com/x",
		"http://127.0.0.1.evil.example.com/x",
		"ftp://in.xero.com/x",
		"//evil.example.com/x",
		"https:evil.example.com",
		"https:///x",
		"https://user:pass@in.xero.com/x",
		"https://in.xero.com@evil.example.com/x",
		"https://in.xero.com/a b",
		"https://in.xero.com/\\evil",
		"https://in.xero.com:99999/x",
		'https://in.xero.com/" onmouseover="alert(1)',
		"<img src=x onerror=alert(1)>",
		"",
		None,
		42,
		"https://" + "a" * 2000 + ".com",
	],
)
def test_anything_else_is_not_a_link(url):
	assert safe_link(url) is None
	assert not is_safe_link(url)

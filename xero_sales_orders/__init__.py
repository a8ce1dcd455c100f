__version__ = "0.1.0"


def _install_request_hooks():
	from .webhook_request import install

	install()


_install_request_hooks()

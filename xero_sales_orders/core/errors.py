"""Every error of the pure core (no Frappe): the Frappe side maps each to an answer with its own status."""


class ImportRuleError(ValueError):
	"""Import settings that cannot work, such as a PO pattern without exactly one group."""

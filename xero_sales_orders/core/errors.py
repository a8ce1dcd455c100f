"""Every error of the pure core (no Frappe), in one place: the Frappe side answers each with its own status
(``xero_sales_orders.exceptions.throw_core_error``). None shares a name with a Frappe-side exception."""


class MoneyError(ValueError):
	"""A value that cannot be used as money, a quantity or a rate."""


class LineValidationError(ValueError):
	"""An order line that Xero would refuse or that makes no sense as an order."""

	def __init__(self, message: str, field: str | None = None, row: int | None = None):
		super().__init__(message)
		self.field = field
		self.row = row


class InvoicingError(ValueError):
	"""A requested invoice that cannot be raised."""


class UnknownLineError(InvoicingError):
	"""A requested line that is not a line of the order."""


class InvalidQtyError(InvoicingError):
	"""A requested quantity that is not a positive number of at most 4 decimal places, or a malformed request."""


class OutstandingExceededError(InvoicingError):
	"""More than a line's outstanding quantity was asked for."""


class NothingToInvoiceError(InvoicingError):
	"""Nothing is left to invoice, or nothing was chosen."""


class CreditExceededError(InvoicingError):
	"""More than a line's invoiced and not yet credited quantity was asked to be credited."""


class NothingToCreditError(InvoicingError):
	"""Nothing is left to credit on the invoice, or nothing was chosen."""


class StatusRuleError(ValueError):
	"""The order's status does not allow the action (invoice a Draft, close a Cancelled order, ...)."""


class ImportRuleError(ValueError):
	"""Import settings that cannot work, such as a PO pattern without exactly one group."""


class InvalidDepositError(InvoicingError):
	"""A deposit request that is malformed: no figure or two, not a number, zero or less, too many places."""


class DepositExceedsError(OutstandingExceededError):
	"""A deposit above the order's total, or above what is still to invoice on it."""


class InvalidItemChangeError(InvoicingError):
	"""An "Update items" request that is malformed: not a list of lines, an unknown or repeated row."""


class ItemChangeRefusedError(StatusRuleError):
	"""A change the order's invoices do not allow: a quantity below what is invoiced, a new price on a line
	that is partly invoiced, removing an invoiced line, or a Closed or Cancelled order."""


class ContactRuleError(ValueError):
	"""A new Xero contact whose fields Xero would refuse: no name, a bad email, payment terms out of range."""


class InvoiceOptionError(InvoicingError):
	"""An invoice's date, due date or status that cannot be sent: not a date, due before the invoice date,
	a status other than DRAFT or AUTHORISED."""


class PaymentTermsError(ValueError):
	"""Payment terms Xero would refuse: an unknown type, or a day out of range for it."""


class TrackingRuleError(LineValidationError):
	"""A tracking option that cannot be on the line: unknown, not active in Xero, of another organisation, a
	second option of the same tracking category, or more than Xero's two."""


class CurrencyRateError(ValueError):
	"""An exchange rate Xero would refuse: not a number, zero or less, more than 6 decimal places."""


class QuoteStatusError(StatusRuleError):
	"""A Xero quote whose status does not let it become an order (only an ACCEPTED one can)."""


class QuoteRuleError(ValueError):
	"""A Xero quote an order cannot be made from: a line the order cannot hold, an unknown tax type, totals that
	are not the sum of its lines."""

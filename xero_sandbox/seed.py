"""Deterministic demo organisations: the same seed gives the same tenants, ids and documents."""

import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .arithmetic import EXCLUSIVE, INCLUSIVE, NO_TAX, ZERO
from .invoices import NO_MONEY, RATE_ONE, price_line, record_payment, set_totals, store_invoice
from .org_settings import seed_contact_settings, seed_settings
from .tenant import Tenant

D = Decimal

# (Name, BaseCurrency, CountryCode, Version, Timezone, IANA zone, other currencies, sales tax rates)
_ORGANISATIONS = [
	(
		"Demo Company (NZ)",
		"NZD",
		"NZ",
		"NZ",
		"NEWZEALANDSTANDARDTIME",
		"Pacific/Auckland",
		["AUD", "USD"],
		"NZ",
	),
	(
		"Demo Company (AU)",
		"AUD",
		"AU",
		"AU",
		"AUSEASTERNSTANDARDTIME",
		"Australia/Sydney",
		["NZD", "USD"],
		"AU",
	),
	("Demo Company (UK)", "GBP", "GB", "UK", "GMTSTANDARDTIME", "Europe/London", ["EUR", "USD"], "UK"),
]
_CURRENCY_NAMES = {
	"NZD": "New Zealand Dollar",
	"AUD": "Australian Dollar",
	"USD": "United States Dollar",
	"GBP": "British Pound",
	"EUR": "Euro",
}
# Where each demo organisation is and its tax number (the seller block of an order confirmation prints them):
# (POBOX line, STREET line, City, Region, PostalCode, Country, TaxNumber), by country code.
_ORGANISATION_ADDRESSES = {
	"NZ": ("PO Box 1234", "23 Main Street", "Wellington", "", "6011", "New Zealand", "123-456-789"),
	"AU": ("PO Box 5678", "100 George Street", "Sydney", "NSW", "2000", "Australia", "12 345 678 901"),
	"GB": ("PO Box 910", "1 High Street", "London", "", "EC1A 1BB", "United Kingdom", "GB123456789"),
}
# (TaxType, Name, components [(name, rate, compound)], Status, revenue?, expenses?, ReportTaxType)
_TAX_RATES = {
	"NZ": [
		("OUTPUT2", "15% GST on Income", [("GST", "15", False)], "ACTIVE", True, False, "OUTPUT"),
		("INPUT2", "15% GST on Expenses", [("GST", "15", False)], "ACTIVE", False, True, "INPUT"),
		("ZERORATEDOUTPUT", "Zero Rated", [("GST", "0", False)], "ACTIVE", True, False, "OUTPUT"),
		("EXEMPTOUTPUT", "Exempt Income", [("GST", "0", False)], "ACTIVE", True, False, "EXEMPTOUTPUT"),
		(
			"TAX001",
			"12.5% GST on Income (old rate)",
			[("GST", "12.5", False)],
			"ARCHIVED",
			True,
			False,
			"OUTPUT",
		),
		("TAX002", "Levy 12.5%", [("Levy", "12.5", False)], "ACTIVE", True, False, "OUTPUT"),
		(
			"TAX003",
			"GST and Compound Levy",
			[("GST", "10", False), ("Compound Levy", "5", True)],
			"ACTIVE",
			True,
			False,
			"OUTPUT",
		),
	],
	"AU": [
		("OUTPUT", "GST on Income", [("GST", "10", False)], "ACTIVE", True, False, "OUTPUT"),
		("INPUT", "GST on Expenses", [("GST", "10", False)], "ACTIVE", False, True, "INPUT"),
		("EXEMPTOUTPUT", "GST Free Income", [("GST", "0", False)], "ACTIVE", True, False, "EXEMPTOUTPUT"),
		("BASEXCLUDED", "BAS Excluded", [("GST", "0", False)], "ACTIVE", True, True, "BASEXCLUDED"),
		("TAX002", "Luxury Levy 12.5%", [("Levy", "12.5", False)], "ACTIVE", True, False, "OUTPUT"),
		("TAX001", "Old GST 12.5%", [("GST", "12.5", False)], "DELETED", True, False, "OUTPUT"),
	],
	"UK": [
		("OUTPUT2", "20% (VAT on Income)", [("VAT", "20", False)], "ACTIVE", True, False, "OUTPUT"),
		("INPUT2", "20% (VAT on Expenses)", [("VAT", "20", False)], "ACTIVE", False, True, "INPUT"),
		("RROUTPUT", "5% (VAT on Income)", [("VAT", "5", False)], "ACTIVE", True, False, "OUTPUT"),
		("ZERORATEDOUTPUT", "Zero Rated Income", [("VAT", "0", False)], "ACTIVE", True, False, "OUTPUT"),
		("EXEMPTOUTPUT", "Exempt Income", [("VAT", "0", False)], "ACTIVE", True, False, "EXEMPTOUTPUT"),
		("TAX002", "Levy 12.5%", [("Levy", "12.5", False)], "ACTIVE", True, False, "OUTPUT"),
	],
}
_SALES_TAX = {"NZ": "OUTPUT2", "AU": "OUTPUT", "UK": "OUTPUT2"}
_EXEMPT_TAX = {"NZ": "EXEMPTOUTPUT", "AU": "EXEMPTOUTPUT", "UK": "EXEMPTOUTPUT"}
# (Code, Name, Type, Class, Status, SystemAccount, tax kind)
_ACCOUNTS = [
	("090", "Business Bank Account", "BANK", "ASSET", "ACTIVE", None, "NONE"),
	("200", "Sales", "REVENUE", "REVENUE", "ACTIVE", None, "sales"),
	("205", "Sales - Discontinued Range", "REVENUE", "REVENUE", "ARCHIVED", None, "sales"),
	("210", "Sales - Services", "REVENUE", "REVENUE", "ACTIVE", None, "sales"),
	("260", "Other Revenue", "REVENUE", "REVENUE", "ACTIVE", None, "sales"),
	("270", "Interest Income", "OTHERINCOME", "REVENUE", "ACTIVE", None, "exempt"),
	("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE", "ACTIVE", None, "NONE"),
	("400", "Advertising", "EXPENSE", "EXPENSE", "ACTIVE", None, "NONE"),
	("610", "Accounts Receivable", "CURRENT", "ASSET", "ACTIVE", "DEBTORS", "NONE"),
	("820", "Sales Tax", "CURRLIAB", "LIABILITY", "ACTIVE", "GST", "NONE"),
	("860", "Rounding", "EXPENSE", "EXPENSE", "ACTIVE", "ROUNDING", "NONE"),
]
_CONTACT_NAMES = [
	"ABC Furniture",
	"Bayside Club",
	"Basket Case",
	"Boom FM",
	"City Limousines",
	"Coco Cafe",
	"Carlton Functions",
	"Dimples Warehouse",
	"Gateway Motors",
	"Hamilton Smith Ltd",
	"Marine Systems",
	"Orlena Greenville",
	"Petrie McLoud Watson & Associates",
	"Port & Philip Freight",
	"Rex Media Group",
	"Ridgeway University",
	"Truxton Property Management",
	"Wilson Periodicals",
	"Young Bros Transport",
	"Espresso 31",
]
# (Code, Name, Description, UnitPrice, AccountCode, tax kind, IsSold)
_ITEMS = [
	("DESK-OAK", "Oak desk", "Solid oak desk, 1600 x 800", "649.00", "200", "sales", True),
	(
		"CHAIR-ERG",
		"Ergonomic chair",
		"Ergonomic office chair with lumbar support",
		"389.95",
		"200",
		"sales",
		True,
	),
	("LAMP-LED", "LED desk lamp", "Dimmable LED desk lamp", "59.90", "200", "sales", True),
	("CABLE-USB", "USB-C cable 2m", "Braided USB-C cable, 2 m", "12.49", "200", "sales", True),
	("PAPER-A4", "A4 paper ream", "A4 copy paper, 500 sheets", "8.75", "200", "sales", True),
	("PEN-BLUE", "Blue pen", "Blue ballpoint pen (sold singly)", "0.3333", "200", "sales", True),
	("GB1-WHITE", "Golf balls - white", "Golf balls - white single", "5.0625", "200", "sales", True),
	("BOOK", "Fish out of Water", "Fish out of Water: Finding Your Brand", "19.95", "200", "sales", True),
	("TRAIN-HR", "Training (hour)", "On-site training, per hour", "120.00", "210", "sales", True),
	("CONS-DAY", "Consulting (day)", "Consulting, per day", "950.00", "210", "sales", True),
	("INSTALL", "Installation", "Installation and set-up", "85.50", "210", "sales", True),
	("SUPPORT-M", "Support (month)", "Monthly support plan", "49.99", "260", "sales", True),
	("GIFT-CARD", "Gift card", "Gift card (no tax)", "50.00", "260", "exempt", True),
	("FREIGHT", "Freight", "Freight and delivery", "25.06", "260", "sales", True),
	("TONER-BLK", "Black toner", "Black toner cartridge (purchases only)", "74.00", "310", "sales", False),
]
# Statuses of seeded invoices and how often they occur.
_STATUS_WEIGHTS = [
	("DRAFT", 12),
	("SUBMITTED", 5),
	("AUTHORISED", 40),
	("PAID", 33),
	("VOIDED", 5),
	("DELETED", 5),
]
_REFERENCE_FORMATS = [
	"PO-{po}",
	"PO-{po}",
	"PO-{po}",
	"Order PO-{po} part {part}",
	"PO-{po} / {contact}",
	"Backorder PO-{po}",
]


def seeded_uuid(rng: random.Random) -> str:
	return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_tenants(
	count: int, *, seed: int, contacts: int, items: int, invoices: int, now: datetime
) -> dict[str, Tenant]:
	tenants = {}
	for index in range(count):
		tenant = make_tenant(index, seed=seed, contacts=contacts, items=items, invoices=invoices, now=now)
		tenants[tenant.tenant_id] = tenant
	return tenants


def make_tenant(index: int, *, seed: int, contacts: int, items: int, invoices: int, now: datetime) -> Tenant:
	rng = random.Random(f"xso-sandbox/{seed}/{index}")
	name, currency, country, version, zone, iana, others, tax_set = _ORGANISATIONS[
		index % len(_ORGANISATIONS)
	]
	if index >= len(_ORGANISATIONS):
		name = f"Sandbox Company {index + 1} ({version})"
	created = now - timedelta(days=800)
	tenant_id = seeded_uuid(rng)
	organisation = {
		"OrganisationID": seeded_uuid(rng),
		"APIKey": "",
		"Name": name,
		"LegalName": f"{name} Limited",
		"PaysTax": True,
		"Version": version,
		"OrganisationType": "COMPANY",
		"BaseCurrency": currency,
		"CountryCode": country,
		"IsDemoCompany": index < len(_ORGANISATIONS),
		"OrganisationStatus": "ACTIVE",
		"FinancialYearEndDay": 31,
		"FinancialYearEndMonth": 3,
		"SalesTaxBasis": "INVOICE",
		"SalesTaxPeriod": "TWOMONTHS",
		"DefaultSalesTax": "Tax Exclusive",
		"DefaultPurchasesTax": "Tax Inclusive",
		"CreatedDateUTC": created,
		"Timezone": zone,
		"OrganisationEntityType": "COMPANY",
		"ShortCode": "!" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(5)),
		"Class": "DEMO",
		"Edition": "BUSINESS",
		"LineOfBusiness": "Office furniture and services",
		"PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
		"Addresses": _organisation_addresses(country),
		"Phones": [{"PhoneType": "OFFICE", "PhoneNumber": "555-0100", "PhoneAreaCode": "04"}],
		"ExternalLinks": [],
	}
	organisation["TaxNumber"] = _ORGANISATION_ADDRESSES[country][6]
	tenant = Tenant(
		tenant_id=tenant_id,
		name=name,
		organisation=organisation,
		timezone=iana,
		currencies=[{"Code": code, "Description": _CURRENCY_NAMES[code]} for code in [currency, *others]],
		tax_rates=_tax_rates(tax_set),
		accounts=_accounts(rng, tax_set, created),
	)
	_seed_contacts(tenant, rng, contacts, now)
	_seed_items(tenant, rng, items, tax_set, now)
	seed_settings(tenant, f"xso-sandbox/{seed}/{index}", created)
	seed_contact_settings(tenant)
	_seed_invoices(tenant, rng, invoices, now)
	return tenant


def _organisation_addresses(country: str) -> list[dict]:
	pobox, street, city, region, postcode, country_name, _ = _ORGANISATION_ADDRESSES[country]
	place = {"City": city, "Region": region, "PostalCode": postcode, "Country": country_name}
	return [
		{"AddressType": "POBOX", "AddressLine1": pobox, **place},
		{"AddressType": "STREET", "AddressLine1": street, **place},
	]


def _tax_rates(tax_set: str) -> dict[str, dict]:
	rates = {
		"NONE": {
			"Name": "No Tax",
			"TaxType": "NONE",
			"ReportTaxType": "NONE",
			"TaxComponents": [
				{"Name": "No Tax", "Rate": D("0.0000"), "IsCompound": False, "IsNonRecoverable": False}
			],
			"Status": "ACTIVE",
			"CanApplyToAssets": True,
			"CanApplyToEquity": True,
			"CanApplyToExpenses": True,
			"CanApplyToLiabilities": True,
			"CanApplyToRevenue": True,
			"DisplayTaxRate": D("0.0000"),
			"EffectiveRate": D("0.0000"),
		}
	}
	for tax_type, name, components, status, revenue, expenses, report in _TAX_RATES[tax_set]:
		effective = ZERO
		for _, rate, compound in components:
			rate = D(rate)
			effective += rate * (1 + effective / 100) if compound else rate
		effective = effective.quantize(D("0.0001"))
		rates[tax_type] = {
			"Name": name,
			"TaxType": tax_type,
			"ReportTaxType": report,
			"TaxComponents": [
				{"Name": n, "Rate": D(r).quantize(D("0.0001")), "IsCompound": c, "IsNonRecoverable": False}
				for n, r, c in components
			],
			"Status": status,
			"CanApplyToAssets": expenses,
			"CanApplyToEquity": False,
			"CanApplyToExpenses": expenses,
			"CanApplyToLiabilities": expenses,
			"CanApplyToRevenue": revenue,
			"DisplayTaxRate": effective,
			"EffectiveRate": effective,
		}
	return rates


DEPOSITS_CODE = "835"


def _accounts(rng: random.Random, tax_set: str, created: datetime) -> dict[str, dict]:
	accounts = {}
	for code, name, kind, klass, status, system, tax in _ACCOUNTS:
		tax_type = {"sales": _SALES_TAX[tax_set], "exempt": _EXEMPT_TAX[tax_set]}.get(tax, "NONE")
		account = {
			"AccountID": seeded_uuid(rng),
			"Code": code,
			"Name": name,
			"Type": kind,
			"Status": status,
			"TaxType": tax_type,
			"Class": klass,
			"EnablePaymentsToAccount": kind == "BANK",
			"ShowInExpenseClaims": False,
			"ReportingCode": klass[:3],
			"ReportingCodeName": klass.title(),
			"HasAttachments": False,
			"UpdatedDateUTC": created,
			"AddToWatchlist": False,
		}
		if kind == "BANK":
			account.update(BankAccountNumber="12-3456-7890123-00", BankAccountType="BANK", CurrencyCode="")
			account.pop("CurrencyCode")
		if system:
			account["SystemAccount"] = system
		accounts[code] = account
	# A current liability for deposit invoices (what Xero's guidance codes customer deposits to). Its id comes from
	# the sales account's, not from ``rng``, so that every other seeded id stays as it was.
	accounts[DEPOSITS_CODE] = {
		**accounts["200"],
		"AccountID": str(uuid.uuid5(uuid.UUID(accounts["200"]["AccountID"]), DEPOSITS_CODE)),
		"Code": DEPOSITS_CODE,
		"Name": "Customer Deposits",
		"Type": "CURRLIAB",
		"Class": "LIABILITY",
		"ReportingCode": "LIA",
		"ReportingCodeName": "Liability",
	}
	return accounts


def _seed_contacts(tenant: Tenant, rng: random.Random, count: int, now: datetime) -> None:
	for index in range(count):
		name = _CONTACT_NAMES[index] if index < len(_CONTACT_NAMES) else f"Customer {index + 1:05d}"
		slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
		contact = {
			"ContactID": seeded_uuid(rng),
			"ContactNumber": f"C{index + 1:05d}",
			"AccountNumber": f"CUST-{index + 1:05d}",
			"ContactStatus": "ARCHIVED" if index % 10 == 9 else "ACTIVE",
			"Name": name,
			"FirstName": "",
			"LastName": "",
			"EmailAddress": f"accounts@{slug}.example",
			"IsSupplier": index % 7 == 3,
			"IsCustomer": False,
			"DefaultCurrency": tenant.base_currency,
			"Addresses": [
				{"AddressType": "STREET", "AddressLine1": f"{index + 1} Main Street", "City": "Wellington"},
				{"AddressType": "POBOX", "AddressLine1": f"PO Box {1000 + index}", "City": "Wellington"},
			],
			"Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": f"555-{index:04d}", "PhoneAreaCode": "04"}],
			"UpdatedDateUTC": now - timedelta(days=rng.randint(30, 400), seconds=rng.randint(0, 86399)),
			"HasAttachments": False,
			"HasValidationErrors": False,
		}
		if index % 4 == 1:
			contact["PaymentTerms"] = {"Sales": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}}
		if index % 5 == 2:
			contact["SalesDefaultAccountCode"] = "210"
		tenant.contacts[contact["ContactID"]] = contact


def _seed_items(tenant: Tenant, rng: random.Random, count: int, tax_set: str, now: datetime) -> None:
	for index in range(count):
		if index < len(_ITEMS):
			code, name, description, price, account, tax, sold = _ITEMS[index]
		else:
			code, name = f"ITEM-{index + 1:05d}", f"Catalogue item {index + 1}"
			description, price = f"Catalogue item number {index + 1}", f"{rng.randint(100, 99999) / 100:.2f}"
			account, tax, sold = "200", "sales", True
		tax_type = {"sales": _SALES_TAX[tax_set], "exempt": _EXEMPT_TAX[tax_set]}[tax]
		item = {
			"ItemID": seeded_uuid(rng),
			"Code": code,
			"Name": name,
			"Description": description,
			"PurchaseDescription": description,
			"IsSold": sold,
			"IsPurchased": True,
			"IsTrackedAsInventory": False,
			"PurchaseDetails": {"UnitPrice": (D(price) * D("0.6")).quantize(D("0.01")), "AccountCode": "310"},
			"UpdatedDateUTC": now - timedelta(days=rng.randint(30, 400)),
		}
		if sold:
			item["SalesDetails"] = {"UnitPrice": D(price), "AccountCode": account, "TaxType": tax_type}
		tenant.items[item["ItemID"]] = item


def _seed_invoices(tenant: Tenant, rng: random.Random, count: int, now: datetime) -> None:
	if not count:
		return
	customers = [c for c in tenant.contacts.values() if c["ContactStatus"] == "ACTIVE"]
	sold = [i for i in tenant.items.values() if i["IsSold"]]
	if not customers or not sold:
		return
	statuses, weights = zip(*_STATUS_WEIGHTS, strict=True)
	purchase_orders = max(1, count // 3)  # about three invoices per PO number
	today = now.date()
	for _ in range(count):
		contact = rng.choice(customers)
		issued = today - timedelta(days=rng.randint(0, 364))
		status = rng.choices(statuses, weights)[0]
		line_amount_type = rng.choices([EXCLUSIVE, INCLUSIVE, NO_TAX], [85, 10, 5])[0]
		po = 10000 + rng.randrange(purchase_orders)
		reference = ""
		if rng.random() < 0.9:
			template = rng.choice(_REFERENCE_FORMATS)
			reference = template.format(po=po, part=rng.randint(1, 3), contact=contact["Name"].split()[0])
		lines, priced = [], []
		for _ in range(rng.randint(1, 5)):
			item = rng.choice(sold)
			details = item["SalesDetails"]
			quantity = D(rng.choice([1, 1, 2, 3, 5, 10, 12, 20])) if rng.random() < 0.9 else D("2.5")
			unit = details["UnitPrice"].quantize(D("0.0001"))
			discount = D(10) if rng.random() < 0.1 else ZERO
			tax_type = "NONE" if line_amount_type == NO_TAX else details["TaxType"]
			rate = tenant.tax_rates[tax_type]["EffectiveRate"]
			priced_line = price_line(quantity, unit, rate, line_amount_type, discount)
			account = tenant.accounts[details["AccountCode"]]
			line = {
				"LineItemID": seeded_uuid(rng),
				"Description": item["Description"],
				"Quantity": quantity.quantize(D("0.0001")),
				"UnitAmount": unit,
				"ItemCode": item["Code"],
				"Item": {"ItemID": item["ItemID"], "Name": item["Name"], "Code": item["Code"]},
				"AccountCode": account["Code"],
				"AccountID": account["AccountID"],
				"TaxType": tax_type,
				"TaxAmount": priced_line.tax_amount,
				"LineAmount": priced_line.line_amount,
				"Tracking": [],
			}
			if discount:
				line["DiscountRate"] = discount
			lines.append(line)
			priced.append(priced_line)
		updated = datetime(issued.year, issued.month, issued.day, tzinfo=timezone.utc) + timedelta(
			seconds=rng.randint(3600, 20 * 86400)
		)
		invoice = {
			"Type": "ACCREC",
			"InvoiceID": seeded_uuid(rng),
			"InvoiceNumber": tenant.take_invoice_number(),
			"Reference": reference,
			"Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
			"Date": issued,
			"DueDate": issued + timedelta(days=rng.choice([7, 14, 20, 30])),
			"Status": "AUTHORISED" if status == "PAID" else status,
			"LineAmountTypes": line_amount_type,
			"LineItems": lines,
			"CurrencyCode": tenant.base_currency,
			"CurrencyRate": RATE_ONE,
			"AmountPaid": NO_MONEY,
			"AmountCredited": NO_MONEY,
			"Payments": [],
			"SentToContact": status in ("AUTHORISED", "PAID"),
			"HasAttachments": False,
			"IsDiscounted": any("DiscountRate" in line for line in lines),
			"UpdatedDateUTC": min(updated, now - timedelta(minutes=5)),
			"_created_by_app": False,
		}
		set_totals(invoice, priced)
		contact["IsCustomer"] = True
		store_invoice(tenant, invoice)
		if status == "PAID" or (status == "AUTHORISED" and rng.random() < 0.15):
			amount = (
				invoice["AmountDue"] if status == "PAID" else (invoice["AmountDue"] / 2).quantize(D("0.01"))
			)
			paid_on = min(issued + timedelta(days=rng.randint(0, 40)), today)
			if amount > 0:
				record_payment(tenant, invoice, amount, now=invoice["UpdatedDateUTC"], paid_on=paid_on)
			elif status == "PAID":
				invoice["Status"] = "PAID"
		if status == "VOIDED":
			invoice["AmountDue"] = NO_MONEY

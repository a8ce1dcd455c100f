// Text from Xero, imports and other users is shown as text, never as HTML, and links from Xero are followed
// only when they are https:// (or the local sandbox over http). Loaded on every desk page (hooks.py).
frappe.provide("xero_sales_orders");

// The same rule as xero_sales_orders/core/links.py safe_link: the link itself, or null.
xero_sales_orders.safe_link = function (url) {
	if (typeof url !== "string") return null;
	const text = url.trim();
	// eslint-disable-next-line no-control-regex
	if (!text || text.length > 2000 || /[\s\u0000-\u001f\u007f\\]/.test(text)) return null;
	const lower = text.toLowerCase();
	if (!lower.startsWith("https://") && !lower.startsWith("http://")) return null;
	let parsed;
	try {
		parsed = new URL(text);
	} catch (e) {
		return null;
	}
	if (parsed.username || parsed.password || !parsed.hostname) return null;
	if (parsed.protocol === "https:") return parsed.href;
	const local = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
	return parsed.protocol === "http:" && local ? parsed.href : null;
};

xero_sales_orders.escape = function (value) {
	return frappe.utils.escape_html(value == null ? "" : String(value));
};

// `<a>` to a safe link, labelled with `label` (escaped); "" when the link is not safe.
xero_sales_orders.link_html = function (url, label) {
	const link = xero_sales_orders.safe_link(url);
	if (!link) return "";
	const text = xero_sales_orders.escape(label == null ? url : label);
	return `<a href="${xero_sales_orders.escape(link)}" target="_blank" rel="noopener noreferrer">${text}</a>`;
};

// Frappe's formatters show Data fields in grids, and Small/Long Text fields anywhere read-only, as HTML.
// These formatters show the field's own value (read from the document, so a value Frappe escaped already is not
// escaped twice) as text, and a URL field as a link only when it is safe.
xero_sales_orders.guard_text_fields = function (doctype) {
	const fields = (frappe.meta.docfield_list && frappe.meta.docfield_list[doctype]) || [];
	const raw = (value, df, doc) =>
		doc && doc.doctype === df.parent && df.fieldname in doc ? doc[df.fieldname] : value;
	const formatter = {
		Data: (value, df, options, doc) => xero_sales_orders.escape(raw(value, df, doc)),
		URL: (value, df, options, doc) => {
			const url = raw(value, df, doc);
			return url ? xero_sales_orders.link_html(url) || xero_sales_orders.escape(url) : "";
		},
		Text: (value, df, options, doc) =>
			frappe.utils.replace_newlines(xero_sales_orders.escape(raw(value, df, doc))),
	};
	const kind = (df) => {
		if (df.fieldtype === "Data") return df.options === "URL" ? "URL" : "Data";
		if (["Small Text", "Text", "Long Text"].includes(df.fieldtype)) return "Text";
		return null;
	};
	const apply = (df) => {
		const k = kind(df);
		if (k) df.formatter = formatter[k];
	};
	fields.forEach(apply);
	// Copies Frappe already made for open documents.
	Object.values((frappe.meta.docfield_copy && frappe.meta.docfield_copy[doctype]) || {}).forEach((copy) =>
		Object.values(copy).forEach(apply)
	);
};

// Frappe's query reports render Data cells as HTML too: the app's reports pass this as their `formatter`, so a
// customer name, reference or description is shown as text.
xero_sales_orders.report_formatter = function (value, row, column, data, default_formatter) {
	const text_types = ["Data", "Small Text", "Text", "Long Text"];
	if (typeof value === "string" && column && text_types.includes(column.fieldtype)) {
		value = xero_sales_orders.escape(value);
	}
	return default_formatter(value, row, column, data);
};

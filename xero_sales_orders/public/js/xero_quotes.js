// Orders from Xero quotes: the "From Xero Quote" dialog of the order list lists an organisation's quotes (100 a
// page, one Xero call) and makes an order of an ACCEPTED one; the order form shows the quote it came from and,
// when Xero could not be told, a button to set the quote to INVOICED again. Loaded on every desk page (hooks.py).
// Every text from Xero is shown escaped (xero_safe.js).
frappe.provide("xero_sales_orders.quotes");

xero_sales_orders.quotes.API = "xero_sales_orders.api.quotes";

// Called by the order list's onload (xero_sales_order_list.js).
xero_sales_orders.quotes.add_list_button = function (listview) {
	if (!frappe.model.can_create("Xero Sales Order") || !frappe.perm.has_perm("Xero Sales Order", 0, "submit"))
		return;
	listview.page.add_inner_button(__("From Xero Quote"), () => xero_sales_orders.quotes.dialog());
};

xero_sales_orders.quotes.dialog = function (defaults = {}) {
	const esc = xero_sales_orders.escape;
	const API = xero_sales_orders.quotes.API;
	let page = 1;
	const dialog = new frappe.ui.Dialog({
		title: __("Order from a Xero quote"),
		size: "extra-large",
		fields: [
			{
				fieldname: "connection",
				fieldtype: "Link",
				options: "Xero Connection",
				label: __("Xero Connection"),
				reqd: 1,
				default: defaults.connection,
				onchange: () => load_organisations(),
			},
			{ fieldtype: "Column Break" },
			{
				fieldname: "tenant_id",
				fieldtype: "Select",
				label: __("Organisation"),
				onchange: () => reload(),
			},
			{ fieldtype: "Column Break" },
			{
				fieldname: "status",
				fieldtype: "Select",
				label: __("Quote Status"),
				options: ["ACCEPTED", "SENT", "DRAFT", "DECLINED", "INVOICED", ""].join("\n"),
				default: "ACCEPTED",
				onchange: () => reload(),
			},
			{ fieldtype: "Section Break" },
			{
				fieldname: "contact",
				fieldtype: "Link",
				options: "Xero Contact",
				label: __("Customer"),
				get_query: () => ({
					filters: {
						connection: dialog.get_value("connection") || "",
						tenant_id: dialog.get_value("tenant_id") || "",
					},
				}),
				onchange: () => reload(),
			},
			{ fieldtype: "Column Break" },
			{ fieldname: "date_from", fieldtype: "Date", label: __("Quote Date From"), onchange: () => reload() },
			{ fieldtype: "Column Break" },
			{ fieldname: "date_to", fieldtype: "Date", label: __("Quote Date To"), onchange: () => reload() },
			{ fieldtype: "Section Break" },
			{ fieldname: "quotes_html", fieldtype: "HTML" },
		],
	});
	const area = () => dialog.fields_dict.quotes_html.$wrapper;

	function load_organisations() {
		const connection = dialog.get_value("connection");
		if (!connection) return;
		frappe.call({ method: `${API}.organisations`, args: { connection } }).then((r) => {
			const rows = r.message || [];
			const field = dialog.fields_dict.tenant_id;
			field.df.options = rows.map((t) => ({ value: t.tenant_id, label: t.tenant_name || t.tenant_id }));
			field.refresh();
			const chosen = rows.find((t) => t.is_default) || rows[0];
			if (chosen) dialog.set_value("tenant_id", chosen.tenant_id);
			else reload();
		});
	}

	function reload(to_page = 1) {
		page = to_page;
		const v = dialog.get_values(true);
		if (!v.connection || !v.tenant_id) return;
		area().html(`<div class="text-muted">${__("Asking Xero for quotes...")}</div>`);
		frappe
			.call({
				method: `${API}.quotes`,
				args: {
					connection: v.connection,
					tenant_id: v.tenant_id,
					status: v.status || "",
					contact: v.contact || null,
					date_from: v.date_from || null,
					date_to: v.date_to || null,
					page,
				},
			})
			.then((r) => render(r.message))
			.catch(() => area().html(`<div class="text-danger">${__("Xero did not answer; try again.")}</div>`));
	}

	function render(answer) {
		const quotes = (answer && answer.quotes) || [];
		if (!quotes.length) {
			area().html(`<div class="text-muted xso-no-quotes">${__("No quotes match.")}</div>`);
			return;
		}
		const rows = quotes
			.map((q, index) => {
				const action = q.order
					? `<a href="/app/xero-sales-order/${encodeURIComponent(q.order)}">${esc(q.order)}</a>`
					: q.can_order
					? `<button class="btn btn-xs btn-primary xso-quote-order" data-index="${index}">${__(
							"Create Order"
					  )}</button>`
					: `<span class="text-muted">${esc(q.reason)}</span>`;
				return `<tr data-quote="${esc(q.quote_id)}">
					<td>${esc(q.number)}</td><td>${esc(q.status)}</td><td>${esc(q.contact_name)}</td>
					<td>${esc(q.reference)}</td><td>${esc(q.title)}</td><td>${esc(q.date)}</td>
					<td>${esc(q.line_amount_type)}</td>
					<td class="text-right">${esc(q.currency)} ${esc(q.total)}</td><td>${action}</td></tr>`;
			})
			.join("");
		const pager = `<div class="xso-quote-pages">
			<button class="btn btn-xs btn-default xso-prev" ${page > 1 ? "" : "disabled"}>${__("Previous")}</button>
			<span class="text-muted">${__("Page {0}", [page])}</span>
			<button class="btn btn-xs btn-default xso-next" ${answer.more ? "" : "disabled"}>${__("Next")}</button>
		</div>`;
		area().html(`<table class="table table-condensed xso-quotes">
			<thead><tr><th>${__("Quote")}</th><th>${__("Status")}</th><th>${__("Customer")}</th>
			<th>${__("Reference")}</th><th>${__("Title")}</th><th>${__("Date")}</th><th>${__("Amounts Are")}</th>
			<th class="text-right">${__("Total")}</th><th></th></tr></thead><tbody>${rows}</tbody></table>${pager}`);
		area()
			.find(".xso-prev")
			.on("click", () => reload(page - 1));
		area()
			.find(".xso-next")
			.on("click", () => reload(page + 1));
		area()
			.find(".xso-quote-order")
			.on("click", (event) => create(quotes[Number(event.currentTarget.dataset.index)], event.currentTarget));
	}

	function create(quote, button) {
		button.disabled = true;
		frappe
			.call({
				method: `${API}.create_order`,
				args: {
					connection: dialog.get_value("connection"),
					tenant_id: dialog.get_value("tenant_id"),
					quote: quote.quote_id,
				},
				freeze: true,
				freeze_message: __("Making the order from quote {0}...", [esc(quote.number)]),
			})
			.then((r) => {
				const order = r.message;
				frappe.show_alert({
					message: __("Order {0} made from quote {1}", [esc(order.name), esc(quote.number)]),
					indicator: "green",
				});
				dialog.hide();
				frappe.set_route("Form", "Xero Sales Order", order.name);
			})
			.catch(() => {
				button.disabled = false;
				reload(page);
			});
	}

	dialog.show();
	if (defaults.connection) load_organisations();
	else
		frappe.db
			.get_list("Xero Connection", { fields: ["name"], limit: 2 })
			.then((rows) => {
				if (rows.length === 1) dialog.set_value("connection", rows[0].name);
			})
			.catch(() => {}); // a user who may only pick a connection types or searches it
	return dialog;
};

frappe.ui.form.on("Xero Sales Order", {
	refresh(frm) {
		if (!frm.doc.xero_quote_id) return;
		const link = xero_sales_orders.safe_link(frm.doc.xero_quote_url);
		if (link) frm.add_custom_button(__("View Quote in Xero"), () => window.open(link, "_blank", "noopener"));
		if (frm.doc.docstatus !== 1) return;
		// Sending to Xero again is the managers' right (write on Xero Invoice), as retrying a push is.
		const can_retry = frappe.model.can_write("Xero Invoice");
		if (can_retry && ["Failed", "Pending"].includes(frm.doc.quote_invoiced)) {
			frm.add_custom_button(__("Set Quote to INVOICED"), () =>
				frappe
					.call({
						method: `${xero_sales_orders.quotes.API}.retry_quote_invoiced`,
						args: { sales_order: frm.doc.name },
						freeze: true,
					})
					.then(() => frm.reload_doc())
			);
		}
	},
});

// An import batch whose Source is Quotes makes an order of each ACCEPTED quote of its dates (and contacts):
// the invoice statuses and the grouping mean nothing for it, so they are not shown.
xero_sales_orders.quotes.batch_fields = function (frm) {
	const invoices = frm.doc.source !== "Quotes";
	["statuses", "statuses_html", "grouping_section", "grouping", "po_pattern", "voided_as_demand"].forEach(
		(fieldname) => frm.get_field(fieldname) && frm.toggle_display(fieldname, invoices)
	);
};

frappe.ui.form.on("Xero Import Batch", {
	refresh: (frm) => xero_sales_orders.quotes.batch_fields(frm),
	source: (frm) => xero_sales_orders.quotes.batch_fields(frm),
});

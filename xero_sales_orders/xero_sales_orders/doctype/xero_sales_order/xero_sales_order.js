// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

const XSO_API = "xero_sales_orders.api.orders";

// Descriptions, item codes and references may come from Xero or an import: shown as text, never as HTML.
xero_sales_orders.guard_text_fields("Xero Sales Order");
xero_sales_orders.guard_text_fields("Xero Sales Order Item");

frappe.ui.form.on("Xero Sales Order", {
	setup(frm) {
		// Customers, items, tax rates and accounts come from the order's Xero organisation.
		const same_organisation = () => {
			const filters = {};
			if (frm.doc.connection) filters.connection = frm.doc.connection;
			if (frm.doc.tenant_id) filters.tenant_id = frm.doc.tenant_id;
			return { filters };
		};
		frm.set_query("customer", () => {
			const q = same_organisation();
			q.filters.contact_status = "ACTIVE";
			return q;
		});
		frm.set_query("item", "items", same_organisation);
		frm.set_query("account", "items", () => {
			const q = same_organisation();
			q.filters.status = "ACTIVE";
			return q;
		});
		frm.set_query("tax", "items", () => {
			const q = same_organisation();
			q.filters.status = "ACTIVE";
			return q;
		});
		// Tracking options of the order's organisation that are active in Xero (an option and its category).
		const active_tracking = () => {
			const q = same_organisation();
			q.filters.is_active = 1;
			return q;
		};
		for (const field of ["tracking_option_1", "tracking_option_2"]) {
			frm.set_query(field, active_tracking);
			frm.set_query(field, "items", active_tracking);
		}
	},
	refresh(frm) {
		xso_invoiced_columns(frm);
		if (frm.doc.docstatus === 0 && frappe.model.can_create(frm.doctype)) {
			frm.add_custom_button(__("New Xero Contact"), () => xso_new_contact_dialog(frm));
		}
		if (frm.doc.docstatus !== 1) return;
		const status = frm.doc.status;
		// Closing ends the order's invoicing as cancelling would: the order's cancel permission decides.
		const can_close = frappe.perm.has_perm(frm.doctype, 0, "cancel", frm.doc);
		if (["Open", "Partially Invoiced"].includes(status)) {
			frm.add_custom_button(__("Create Invoice"), () => xso_create_invoice_dialog(frm)).addClass(
				"btn-primary"
			);
		}
		if (can_close && ["Open", "Partially Invoiced", "Fully Invoiced"].includes(status)) {
			frm.add_custom_button(__("Close"), () =>
				frappe.confirm(__("Close this order? Its remainder will not be invoiced."), () =>
					xso_call(frm, "close")
				)
			);
		}
		if (can_close && status === "Closed") {
			frm.add_custom_button(__("Re-open"), () => xso_call(frm, "reopen"));
		}
		xso_order_change_buttons(frm);
		xso_render_invoices(frm);
	},
	customer(frm) {
		if (!frm.doc.customer || frm.doc.docstatus !== 0) return;
		frappe
			.call({
				method: "xero_sales_orders.api.masters.customer_defaults",
				args: { customer: frm.doc.customer },
			})
			.then((r) => {
				const d = r.message || {};
				// The currency starts as the customer's (else its organisation's); one the user typed stays.
				if (d.currency && (!frm.doc.currency || frm.doc.currency === frm.xso_auto_currency)) {
					frm.xso_auto_currency = d.currency;
					frm.set_value("currency", d.currency);
				}
			});
	},
});

// Invoiced and outstanding figures mean something only once the order is submitted: hidden on a draft.
const XSO_INVOICED_LINE_FIELDS = [
	"invoiced_qty",
	"invoiced_amount",
	"invoiced_tax",
	"outstanding_qty",
	"outstanding_amount",
];

function xso_invoiced_columns(frm) {
	const grid = frm.fields_dict.items && frm.fields_dict.items.grid;
	if (!grid) return;
	const hidden = frm.doc.docstatus === 0 ? 1 : 0;
	let changed = false;
	for (const df of frappe.meta.get_docfields("Xero Sales Order Item", frm.doc.name)) {
		if (XSO_INVOICED_LINE_FIELDS.includes(df.fieldname) && cint(df.hidden) !== hidden) {
			df.hidden = hidden;
			changed = true;
		}
	}
	if (changed || grid.xso_hidden !== hidden) {
		grid.xso_hidden = hidden;
		grid.reset_grid(); // the columns are worked out once per grid; build them again
	}
}

const XSO_PAYMENT_TERMS = [
	{ value: "", label: __("Organisation's default") },
	{ value: "DAYSAFTERBILLDATE", label: __("day(s) after the invoice date") },
	{ value: "DAYSAFTERBILLMONTH", label: __("day(s) after the end of the invoice month") },
	{ value: "OFCURRENTMONTH", label: __("of the current month") },
	{ value: "OFFOLLOWINGMONTH", label: __("of the following month") },
];

function xso_new_contact_dialog(frm) {
	frappe.call({ method: "xero_sales_orders.api.masters.organisations" }).then((r) => {
		const organisations = r.message || [];
		if (!organisations.length) {
			frappe.msgprint(__("No Xero organisation is connected: connect one first."));
			return;
		}
		const current = organisations.findIndex(
			(o) => o.connection === frm.doc.connection && o.tenant_id === frm.doc.tenant_id
		);
		// One key per dialog: a retry (a double click, a lost answer) never makes a second contact in Xero.
		const request_id = frappe.utils.get_random(24);
		const dialog = new frappe.ui.Dialog({
			title: __("New Xero Contact"),
			fields: [
				{
					fieldname: "organisation",
					fieldtype: "Select",
					label: __("Organisation"),
					reqd: 1,
					// Select options are written as HTML: an organisation's name is shown as text.
					options: organisations.map((o, i) => ({ value: String(i), label: xero_sales_orders.escape(o.label) })),
					default: String(Math.max(current, 0)),
				},
				{ fieldname: "contact_name", fieldtype: "Data", label: __("Name"), reqd: 1 },
				{ fieldname: "email", fieldtype: "Data", label: __("Email"), options: "Email" },
				{ fieldname: "account_number", fieldtype: "Data", label: __("Account Number") },
				{ fieldname: "terms_section", fieldtype: "Section Break", label: __("Sales payment terms") },
				{ fieldname: "payment_terms_day", fieldtype: "Int", label: __("Due") },
				{ fieldname: "terms_column", fieldtype: "Column Break" },
				{
					fieldname: "payment_terms_type",
					fieldtype: "Select",
					label: __("Terms"),
					options: XSO_PAYMENT_TERMS,
				},
				{ fieldname: "offer", fieldtype: "HTML" },
			],
			primary_action_label: __("Create in Xero"),
			primary_action(values) {
				const { connection, tenant_id } = organisations[cint(values.organisation)];
				frappe
					.call({
						method: "xero_sales_orders.api.masters.new_contact",
						args: {
							connection,
							tenant_id,
							contact_name: values.contact_name,
							email: values.email,
							account_number: values.account_number,
							payment_terms_day: values.payment_terms_type ? values.payment_terms_day : null,
							payment_terms_type: values.payment_terms_type,
							request_id,
						},
						freeze: true,
						freeze_message: __("Creating the contact in Xero..."),
					})
					.then((answer) => {
						const result = answer.message || {};
						if (result.created) {
							dialog.hide();
							xso_pick_customer(frm, result.contact);
							frappe.show_alert({
								message: __("{0} created in Xero", [xero_sales_orders.escape(result.contact.contact_name)]),
								indicator: "green",
							});
						} else {
							xso_offer_contact(frm, dialog, result);
						}
					});
			},
		});
		dialog.show();
	});
}

function xso_offer_contact(frm, dialog, result) {
	// Xero holds a contact of that name or account number: offer it instead of an error.
	const e = xero_sales_orders.escape;
	const c = result.contact || {};
	const details = [c.organisation, c.email, c.account_number].filter(Boolean).map(e).join(" · ");
	const wrapper = dialog.get_field("offer").$wrapper;
	wrapper.html(`<div class="alert alert-warning xso-contact-offer">
		<div>${e(result.message)}</div>
		<div style="margin-top: 6px"><b>${e(c.contact_name)}</b> <span class="text-muted small">${details}</span></div>
		<button class="btn btn-xs btn-primary xso-use-contact" style="margin-top: 6px">${__("Use this contact")}</button>
	</div>`);
	wrapper.find(".xso-use-contact").on("click", () => {
		dialog.hide();
		xso_pick_customer(frm, c);
	});
}

function xso_pick_customer(frm, contact) {
	frm.set_value("customer", contact.name);
}

function xso_call(frm, method, args = {}) {
	return frappe
		.call({
			method: `${XSO_API}.${method}`,
			args: { sales_order: frm.doc.name, ...args },
			freeze: true,
		})
		.then((r) => {
			frm.reload_doc();
			return r.message;
		});
}

function xso_create_invoice_dialog(frm) {
	const lines = (frm.doc.items || [])
		.filter((row) => flt(row.outstanding_qty) > 0)
		.map((row) => ({
			item: row.name,
			idx: row.idx,
			item_code: row.item_code,
			description: row.description,
			outstanding_qty: row.outstanding_qty,
			qty: row.outstanding_qty,
		}));
	// The totals are the app's own plan of the invoice (Xero's arithmetic), asked of the server as the
	// quantities, the date or the status change; nothing is written until Create Invoice.
	const refresh_totals = frappe.utils.debounce(() => xso_preview_invoice(frm, dialog), 250);
	const dialog = new frappe.ui.Dialog({
		title: __("Create Invoice"),
		size: "large",
		fields: [
			{
				fieldtype: "HTML",
				options: `<p class="text-muted">${__(
					"Set the quantity to invoice on each line; 0 leaves a line out."
				)}</p>`,
			},
			{
				fieldname: "invoice_date",
				fieldtype: "Date",
				label: __("Invoice Date"),
				default: frappe.datetime.get_today(),
				reqd: 1,
				onchange: () => refresh_totals(),
			},
			{ fieldname: "column_dates", fieldtype: "Column Break" },
			{
				fieldname: "due_date",
				fieldtype: "Date",
				label: __("Due Date"),
				onchange: () => {
					// A due date the user typed stays; otherwise it follows the organisation's rule.
					if (dialog.get_value("due_date") !== dialog.xso_due_default) dialog.xso_due_touched = true;
					refresh_totals();
				},
			},
			{ fieldname: "column_status", fieldtype: "Column Break" },
			{
				fieldname: "status",
				fieldtype: "Select",
				label: __("Send to Xero As"),
				options: [
					{ value: "DRAFT", label: __("Draft") },
					{ value: "AUTHORISED", label: __("Approved (AUTHORISED)") },
				],
			},
			{
				// Xero's CurrencyRate: units of the order's currency per unit of the base currency; empty, Xero
				// takes its own (XE.com) rate of the invoice's date.
				fieldname: "currency_rate",
				fieldtype: "Float",
				precision: 6,
				label: __("Exchange Rate (1 {0} = ? {1})", [frm.doc.base_currency, frm.doc.currency]),
				description: __("Leave empty for Xero's own rate of the invoice's date"),
				hidden: !(frm.doc.base_currency && frm.doc.currency !== frm.doc.base_currency),
				onchange: () => refresh_totals(),
			},
			{ fieldname: "lines_section", fieldtype: "Section Break" },
			{
				fieldname: "lines",
				fieldtype: "Table",
				label: __("Lines"),
				cannot_add_rows: true,
				cannot_delete_rows: true,
				in_place_edit: true,
				data: lines,
				fields: [
					{ fieldname: "item", fieldtype: "Data", hidden: 1 },
					{ fieldname: "idx", fieldtype: "Int", label: __("Row"), read_only: 1, in_list_view: 1, columns: 1 },
					{ fieldname: "item_code", fieldtype: "Data", label: __("Item"), read_only: 1, in_list_view: 1, columns: 2, formatter: xero_sales_orders.escape },
					{ fieldname: "description", fieldtype: "Data", label: __("Description"), read_only: 1, in_list_view: 1, columns: 3, formatter: xero_sales_orders.escape },
					{ fieldname: "outstanding_qty", fieldtype: "Float", label: __("Outstanding"), read_only: 1, in_list_view: 1, columns: 2 },
					{ fieldname: "qty", fieldtype: "Float", label: __("Qty to Invoice"), in_list_view: 1, columns: 2, onchange: () => refresh_totals() },
				],
			},
			{ fieldname: "totals", fieldtype: "HTML" },
		],
		primary_action_label: __("Create Invoice"),
		primary_action(values) {
			const chosen = xso_chosen_lines(values);
			if (!chosen.length) {
				frappe.msgprint(__("Enter a quantity on at least one line."));
				return;
			}
			xso_call(frm, "create_invoice", {
				lines: chosen,
				invoice_date: values.invoice_date,
				due_date: values.due_date,
				status: values.status,
				currency_rate: values.currency_rate || null,
			}).then((invoice) => {
				dialog.hide();
				frappe.show_alert({
					message: __("Invoice {0} created ({1})", [
						xero_sales_orders.escape(invoice.name),
						xero_sales_orders.escape(__(invoice.push_state)),
					]),
					indicator: "green",
				});
			});
		},
	});
	dialog.fields_dict.status.$input.on("change", () => refresh_totals());
	// In-place edits of the grid reach the dialog's value on change; typing is caught here too.
	dialog.fields_dict.lines.$wrapper.on("change", "input", () => refresh_totals());
	// Frappe's grid moves to the next row on Tab before the typed quantity is taken, and adds an empty row
	// after the last one: the quantity is taken first (capture phase), and Tab on the last row adds nothing.
	dialog.fields_dict.lines.$wrapper.get(0).addEventListener(
		"keydown",
		(e) => {
			if (e.key !== "Tab" || !e.target.matches('input[data-fieldname="qty"]')) return;
			$(e.target).trigger("change");
			const row = $(e.target).closest(".grid-row").attr("data-idx");
			if (cint(row) === (dialog.get_value("lines") || []).length) e.stopPropagation();
		},
		true
	);
	dialog.show();
	xso_preview_invoice(frm, dialog, true);
}

function xso_chosen_lines(values) {
	return (values.lines || [])
		.filter((row) => flt(row.qty) > 0)
		.map((row) => ({ item: row.item, qty: row.qty }));
}

function xso_preview_invoice(frm, dialog, first) {
	const values = dialog.get_values(true) || {};
	const area = dialog.get_field("totals").$wrapper;
	const chosen = xso_chosen_lines(values);
	if (!chosen.length) {
		area.html(`<p class="text-muted xso-invoice-totals">${__("Enter a quantity on at least one line.")}</p>`);
		return;
	}
	const asked = (dialog.xso_preview_seq = (dialog.xso_preview_seq || 0) + 1);
	frappe.call({
		method: `${XSO_API}.preview_invoice`,
		args: {
			sales_order: frm.doc.name,
			lines: chosen,
			invoice_date: values.invoice_date,
			due_date: dialog.xso_due_touched ? values.due_date : null,
			status: first ? null : values.status,
			currency_rate: values.currency_rate || null,
		},
		silent: true,
		callback(r) {
			if (asked !== dialog.xso_preview_seq) return; // an older answer, overtaken by a newer question
			const p = r.message;
			if (first) dialog.set_value("status", p.status);
			if (!dialog.xso_due_touched && dialog.get_value("due_date") !== p.due_date) {
				dialog.xso_due_default = p.due_date;
				dialog.set_value("due_date", p.due_date);
			}
			const fmt = (v) => xero_sales_orders.escape(format_currency(v, p.currency));
			const tax_label = p.line_amount_type === "Inclusive" ? __("Includes Tax") : __("Total Tax");
			area.html(`<table class="table table-sm xso-invoice-totals" style="max-width: 22rem; margin-left: auto">
				${flt(p.deposit_deducted) ? `<tr><td>${__("Deposit deducted")}</td><td class="text-right" data-total="deposit">${fmt(p.deposit_deducted)}</td></tr>` : ""}
				<tr><td>${__("Subtotal")}</td><td class="text-right" data-total="subtotal">${fmt(p.subtotal)}</td></tr>
				<tr><td>${tax_label}</td><td class="text-right" data-total="tax">${fmt(p.total_tax)}</td></tr>
				<tr><th>${__("Total")} ${xero_sales_orders.escape(p.currency)}</th><th class="text-right" data-total="total">${fmt(p.total)}</th></tr>
				${p.base_total ? `<tr><td>${__("Total")} ${xero_sales_orders.escape(p.base_currency)}</td><td class="text-right" data-total="base_total">${xero_sales_orders.escape(format_currency(p.base_total, p.base_currency))}</td></tr>` : ""}
			</table>`);
		},
		error(r) {
			if (asked !== dialog.xso_preview_seq) return;
			let message = __("The invoice cannot be priced");
			try {
				// Frappe hands a 417 answer's body here, and the request itself for other refusals (409, 400).
				const body = (r && r.responseJSON) || r || {};
				const messages = JSON.parse(body._server_messages || "[]");
				if (messages.length) message = JSON.parse(messages[0]).message || message;
			} catch (e) {
				// keep the general message
			}
			area.html(`<p class="text-danger xso-invoice-totals" data-total="error">${xero_sales_orders.escape(
				frappe.utils.html2text ? frappe.utils.html2text(message) : message
			)}</p>`);
		},
	});
}

function xso_render_invoices(frm) {
	const field = frm.get_field("invoices_html");
	if (!field) return;
	if (flt(frm.doc.paid_amount) > 0) {
		const paid_in_full = flt(frm.doc.paid_amount) >= flt(frm.doc.grand_total);
		frm.dashboard.add_indicator(
			__("Paid {0}", [format_currency(frm.doc.paid_amount, frm.doc.currency)]),
			paid_in_full ? "green" : "blue"
		);
	}
	frappe.call({ method: `${XSO_API}.invoices`, args: { sales_order: frm.doc.name } }).then((r) => {
		const rows = r.message || [];
		if (!rows.length) {
			field.$wrapper.html(`<p class="text-muted">${__("No invoices yet.")}</p>`);
			return;
		}
		const esc = frappe.utils.escape_html;
		const fmt = (v) => format_currency(v, frm.doc.currency);
		// Sending an invoice again is writing it; the server checks each invoice and its order too.
		const can_retry = frappe.model.can_write("Xero Invoice");
		const body = rows
			.map((inv) => {
				// Only https:// links (or the local sandbox) become links; anything else is not shown.
				const links = [
					xero_sales_orders.link_html(inv.xero_url, __("View in Xero")),
					xero_sales_orders.link_html(inv.online_url, __("Online invoice")),
				].filter(Boolean);
				const retry =
					can_retry && inv.push_state !== "Pushed"
						? ` <button class="btn btn-xs btn-default xso-retry-push" data-invoice="${esc(inv.name)}">${__("Retry push")}</button>`
						: "";
				const error = inv.last_error ? `<div class="text-danger small">${esc(inv.last_error)}</div>` : "";
				// Credit, Approve & Email, Email (xero_invoice_actions.js): what the invoice's state and the user allow.
				const can = xero_sales_orders.invoice_actions(inv);
				const action = (cls, label) =>
					` <button class="btn btn-xs btn-default ${cls}" data-invoice="${esc(inv.name)}">${label}</button>`;
				const actions =
					(can.approve_and_email ? action("xso-approve-email", __("Approve & Email")) : "") +
					(can.email && !can.approve_and_email ? action("xso-email", __("Email")) : "") +
					(can.credit ? action("xso-credit", __("Credit")) : "");
				const sent = inv.sent_to_contact
					? `<div class="small text-success xso-sent">${__("Sent to customer")}</div>`
					: "";
				const credited = flt(inv.amount_credited)
					? `<div class="small text-muted xso-credited">${__("Credited {0}", [fmt(inv.amount_credited)])}</div>`
					: "";
				// Xero's own totals are kept beside the app's; a difference is shown, never hidden.
				const differs = inv.totals_differ
					? `<div class="text-danger small xso-totals-differ" title="${esc(inv.totals_difference || "")}">${__(
							"Xero: {0}",
							[fmt(inv.xero_total)]
					  )}</div>`
					: "";
				return `<tr>
				<td><a href="/app/xero-invoice/${encodeURIComponent(inv.name)}">${esc(inv.name)}</a>${
					inv.is_deposit ? ` <span class="indicator-pill blue xso-deposit-badge">${__("Deposit")}</span>` : ""
				}
					<div class="small">${links.join(" · ")}</div></td>
				<td><span class="xso-xero-status">${esc(inv.status || "")}</span>${sent}<div>${actions}</div></td>
				<td>${esc(inv.push_state || "")}${retry}${error}</td>
				<td class="text-right">${fmt(inv.total)}${differs}</td>
				<td class="text-right">${fmt(inv.amount_paid)}</td>
				<td class="text-right">${fmt(inv.amount_due)}${credited}</td>
			</tr>`;
			})
			.join("");
		field.$wrapper.html(`<table class="table table-bordered table-sm xso-invoices">
			<thead><tr><th>${__("Invoice")}</th><th>${__("Xero Status")}</th><th>${__("Push")}</th>
			<th class="text-right">${__("Total")}</th><th class="text-right">${__("Paid")}</th>
			<th class="text-right">${__("Due")}</th></tr></thead><tbody>${body}</tbody></table>`);
		const invoice_of = (e) => $(e.currentTarget).data("invoice");
		field.$wrapper.find(".xso-credit").on("click", (e) =>
			xero_sales_orders.credit_dialog(invoice_of(e), () => frm.reload_doc())
		);
		field.$wrapper.find(".xso-approve-email").on("click", (e) =>
			xero_sales_orders.email_invoice(invoice_of(e), true, () => frm.reload_doc())
		);
		field.$wrapper.find(".xso-email").on("click", (e) =>
			xero_sales_orders.email_invoice(invoice_of(e), false, () => frm.reload_doc())
		);
		frappe
			.call({
				method: "xero_sales_orders.api.invoices.invoice_credit_notes",
				args: { sales_order: frm.doc.name },
			})
			.then((c) =>
				field.$wrapper.append(xero_sales_orders.credit_notes_html(c.message || [], frm.doc.currency))
			);
		field.$wrapper.find(".xso-retry-push").on("click", (e) => {
			frappe
				.call({
					method: `${XSO_API}.retry_push`,
					args: { invoice: $(e.currentTarget).data("invoice") },
					freeze: true,
				})
				.then(() => frm.reload_doc());
		});
	});
}

frappe.ui.form.on("Xero Sales Order Item", {
	item(frm, cdt, cdn) {
		const row = locals[cdt][cdn];
		if (!row.item) return;
		frappe
			.call({ method: "xero_sales_orders.api.masters.item_defaults", args: { item: row.item } })
			.then((r) => {
				const d = r.message || {};
				const values = {
					item_code: d.item_code,
					description: d.description,
					unit_price: d.unit_price,
					account: d.account,
					account_code: d.account_code,
					tax: d.tax,
					tax_type: d.tax_type,
					tax_rate: d.tax_rate,
				};
				Object.keys(values).forEach((k) => values[k] == null && delete values[k]);
				frappe.model.set_value(cdt, cdn, values);
			});
	},
});

// Deposits and Update Items on a submitted order (services/deposit_invoicing.py, services/item_updates.py). The
// server checks every rule again under the order's lock; the dialogs only help.
function xso_order_change_buttons(frm) {
	if (frm.doc.docstatus !== 1 || !["Open", "Partially Invoiced"].includes(frm.doc.status)) return;
	if (frappe.perm.has_perm(frm.doctype, 0, "write", frm.doc)) {
		frm.add_custom_button(__("Update Items"), () => xso_update_items_dialog(frm));
	}
	if (frappe.model.can_create("Xero Invoice")) {
		frm.add_custom_button(__("Deposit Invoice"), () => xso_deposit_dialog(frm));
	}
	if (flt(frm.doc.deposit_amount) > 0) {
		frm.dashboard.add_indicator(
			__("Deposit remaining {0} of {1}", [
				format_currency(frm.doc.deposit_remaining, frm.doc.currency),
				format_currency(frm.doc.deposit_amount, frm.doc.currency),
			]),
			flt(frm.doc.deposit_remaining) > 0 ? "orange" : "green"
		);
	}
}

function xso_deposit_dialog(frm) {
	const still = flt(frm.doc.outstanding_amount) - flt(frm.doc.deposit_remaining);
	const dialog = new frappe.ui.Dialog({
		title: __("Deposit Invoice"),
		fields: [
			{
				fieldtype: "HTML",
				options: `<p class="text-muted">${__(
					"A deposit invoice on the organisation's deposit account, with the order's tax. Still to invoice: {0}.",
					[xero_sales_orders.escape(format_currency(still, frm.doc.currency))]
				)}</p>`,
			},
			{
				fieldname: "basis",
				fieldtype: "Select",
				label: __("Deposit of"),
				options: [
					{ value: "percent", label: __("A percentage of the order's total") },
					{ value: "amount", label: __("An amount") },
				],
				default: "percent",
			},
			{ fieldname: "percent", fieldtype: "Percent", label: __("Percent"), depends_on: "eval:doc.basis==='percent'" },
			{
				fieldname: "amount",
				fieldtype: "Currency",
				label: __("Amount (the deposit invoice's total)"),
				options: "currency",
				depends_on: "eval:doc.basis==='amount'",
			},
			{ fieldname: "currency", fieldtype: "Data", hidden: 1, default: frm.doc.currency },
			{
				fieldname: "deduction",
				fieldtype: "Select",
				label: __("Later invoices deduct it"),
				options: [
					{ value: "In Proportion", label: __("In proportion to what each invoices") },
					{ value: "On Final Invoice", label: __("On the final invoice") },
				],
				default: frm.doc.deposit_deduction || "In Proportion",
			},
		],
		primary_action_label: __("Create Deposit Invoice"),
		primary_action(values) {
			const args = { deduction: values.deduction };
			if (values.basis === "percent") args.percent = values.percent;
			else args.amount = values.amount;
			xso_call(frm, "create_deposit", args).then((invoice) => {
				dialog.hide();
				frappe.show_alert({
					message: __("Deposit invoice {0} created ({1})", [
						xero_sales_orders.escape(invoice.name),
						xero_sales_orders.escape(__(invoice.push_state)),
					]),
					indicator: "green",
				});
			});
		},
	});
	dialog.show();
}

// The fields of a line the dialog edits; a line's other fields (account, tracking) keep their values.
const XSO_UPDATE_FIELDS = ["item", "description", "qty", "unit_price", "discount_rate", "tax"];

function xso_update_items_dialog(frm) {
	const data = (frm.doc.items || []).map((row) => {
		// The dialog's grid names its rows itself ("row 2"): the order line's name goes in a field of its own.
		const line = { order_line: row.name, invoiced_qty: flt(row.invoiced_qty) };
		for (const field of XSO_UPDATE_FIELDS) line[field] = row[field];
		return line;
	});
	const organisation = () => ({ filters: { connection: frm.doc.connection, tenant_id: frm.doc.tenant_id } });
	const dialog = new frappe.ui.Dialog({
		title: __("Update Items"),
		size: "extra-large",
		fields: [
			{
				fieldtype: "HTML",
				options: `<p class="text-muted">${__(
					"Change quantities (never below what is invoiced), prices and discounts of lines with nothing invoiced, add lines, or delete lines with nothing invoiced."
				)}</p>`,
			},
			{
				fieldname: "lines",
				fieldtype: "Table",
				label: __("Lines"),
				in_place_edit: true,
				data,
				fields: [
					{ fieldname: "order_line", fieldtype: "Data", hidden: 1 },
					{
						fieldname: "item",
						fieldtype: "Link",
						options: "Xero Item",
						label: __("Item"),
						in_list_view: 1,
						columns: 2,
						get_query: organisation,
						onchange() {
							const row = this.doc;
							if (!row || !row.item || row.order_line) return; // a stored line keeps what it has
							frappe
								.call({ method: "xero_sales_orders.api.masters.item_defaults", args: { item: row.item } })
								.then((r) => {
									const d = r.message || {};
									for (const field of ["description", "unit_price", "tax"]) {
										if (d[field] != null) row[field] = d[field];
									}
									dialog.fields_dict.lines.grid.refresh();
								});
						},
					},
					{ fieldname: "description", fieldtype: "Data", label: __("Description"), in_list_view: 1, columns: 3 },
					{ fieldname: "qty", fieldtype: "Float", label: __("Qty"), in_list_view: 1, columns: 1 },
					{ fieldname: "unit_price", fieldtype: "Float", precision: 4, label: __("Unit Price"), in_list_view: 1, columns: 1 },
					{ fieldname: "discount_rate", fieldtype: "Percent", label: __("Discount %"), in_list_view: 1, columns: 1 },
					{
						fieldname: "tax",
						fieldtype: "Link",
						options: "Xero Tax Rate",
						label: __("Tax"),
						in_list_view: 1,
						columns: 1,
						get_query: organisation,
					},
					{ fieldname: "invoiced_qty", fieldtype: "Float", label: __("Invoiced"), read_only: 1, in_list_view: 1, columns: 1 },
				],
			},
		],
		primary_action_label: __("Update"),
		primary_action(values) {
			const items = (values.lines || []).map((row) => {
				const line = row.order_line ? { name: row.order_line } : {};
				for (const field of XSO_UPDATE_FIELDS) {
					if (row[field] !== undefined && (row.order_line || row[field] !== "")) line[field] = row[field];
				}
				return line;
			});
			xso_call(frm, "update_items", { items }).then((answer) => {
				dialog.hide();
				const changed = (answer && answer.changes) || [];
				frappe.show_alert({
					message: changed.length
						? __("{0} line(s) changed", [changed.length])
						: __("Nothing changed"),
					indicator: changed.length ? "green" : "blue",
				});
			});
		},
	});
	dialog.show();
}

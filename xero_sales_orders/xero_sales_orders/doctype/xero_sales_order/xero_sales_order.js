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
	},
	refresh(frm) {
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
		xso_render_invoices(frm);
	},
});

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
					{ fieldname: "qty", fieldtype: "Float", label: __("Qty to Invoice"), in_list_view: 1, columns: 2 },
				],
			},
		],
		primary_action_label: __("Create Invoice"),
		primary_action(values) {
			const chosen = (values.lines || [])
				.filter((row) => flt(row.qty) > 0)
				.map((row) => ({ item: row.item, qty: row.qty }));
			if (!chosen.length) {
				frappe.msgprint(__("Enter a quantity on at least one line."));
				return;
			}
			xso_call(frm, "create_invoice", { lines: chosen }).then((invoice) => {
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
	dialog.show();
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
				// Xero's own totals are kept beside the app's; a difference is shown, never hidden.
				const differs = inv.totals_differ
					? `<div class="text-danger small xso-totals-differ" title="${esc(inv.totals_difference || "")}">${__(
							"Xero: {0}",
							[fmt(inv.xero_total)]
					  )}</div>`
					: "";
				return `<tr>
				<td><a href="/app/xero-invoice/${encodeURIComponent(inv.name)}">${esc(inv.name)}</a>
					<div class="small">${links.join(" · ")}</div></td>
				<td class="xso-xero-status">${esc(inv.status || "")}</td>
				<td>${esc(inv.push_state || "")}${retry}${error}</td>
				<td class="text-right">${fmt(inv.total)}${differs}</td>
				<td class="text-right">${fmt(inv.amount_paid)}</td>
				<td class="text-right">${fmt(inv.amount_due)}</td>
			</tr>`;
			})
			.join("");
		field.$wrapper.html(`<table class="table table-bordered table-sm xso-invoices">
			<thead><tr><th>${__("Invoice")}</th><th>${__("Xero Status")}</th><th>${__("Push")}</th>
			<th class="text-right">${__("Total")}</th><th class="text-right">${__("Paid")}</th>
			<th class="text-right">${__("Due")}</th></tr></thead><tbody>${body}</tbody></table>`);
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

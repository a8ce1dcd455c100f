// Credit, Approve & Email and Email on a pushed invoice: from the invoice's form and from its order's invoice
// list (hooks.py loads this on every desk page). The server checks every right again; the desk only asks
// Frappe's permission API before it shows a button.
frappe.provide("xero_sales_orders");

const XSO_INVOICES_API = "xero_sales_orders.api.invoices";

// Which actions an invoice offers (its row of the order's list, or its form's doc).
xero_sales_orders.invoice_actions = function (inv) {
	const pushed = inv.push_state === "Pushed" && !!inv.xero_invoice_id;
	const may_email = frappe.model.can_email("Xero Invoice");
	const may_write = frappe.model.can_write("Xero Invoice");
	return {
		credit: pushed && ["AUTHORISED", "PAID"].includes(inv.status) && frappe.model.can_create("Xero Credit Note"),
		approve_and_email: pushed && ["DRAFT", "SUBMITTED"].includes(inv.status) && may_write && may_email,
		email: pushed && ["SUBMITTED", "AUTHORISED", "PAID"].includes(inv.status) && may_email,
	};
};

xero_sales_orders.email_invoice = function (invoice, approve, on_done) {
	const question = approve
		? __("Approve invoice {0} in Xero and email it to the customer?", [xero_sales_orders.escape(invoice)])
		: __("Email invoice {0} to the customer from Xero?", [xero_sales_orders.escape(invoice)]);
	frappe.confirm(question, () =>
		frappe
			.call({
				method: `${XSO_INVOICES_API}.${approve ? "approve_and_email" : "email"}`,
				args: { invoice },
				freeze: true,
				freeze_message: __("Sending through Xero..."),
			})
			.then((r) => {
				frappe.show_alert({
					message: __("Invoice {0} emailed from Xero", [xero_sales_orders.escape(invoice)]),
					indicator: "green",
				});
				on_done && on_done(r.message);
			})
	);
};

// The Credit dialog: lines and quantities (at most what is invoiced and not yet credited), and whether the
// quantities go back to the order or are only credited; the credit note's total as Xero will compute it.
xero_sales_orders.credit_dialog = function (invoice, on_done) {
	frappe.call({ method: `${XSO_INVOICES_API}.creditable`, args: { invoice } }).then((r) => {
		const lines = (r.message || [])
			.filter((row) => flt(row.creditable_qty) > 0)
			.map((row) => ({ ...row, credit_qty: 0 }));
		if (!lines.length) {
			frappe.msgprint(__("Everything on invoice {0} is credited already.", [xero_sales_orders.escape(invoice)]));
			return;
		}
		let preview_timer = null;
		const chosen = () =>
			(dialog.get_value("lines") || [])
				.filter((row) => flt(row.credit_qty) > 0)
				.map((row) => ({ item: row.item, qty: row.credit_qty }));
		const show_preview = () => {
			clearTimeout(preview_timer);
			preview_timer = setTimeout(() => {
				const wanted = chosen();
				const field = dialog.get_field("preview");
				if (!wanted.length) {
					field.$wrapper.html(`<p class="text-muted xso-credit-preview">${__("Nothing chosen yet.")}</p>`);
					return;
				}
				frappe
					.call({ method: `${XSO_INVOICES_API}.preview_credit`, args: { invoice, lines: wanted } })
					.then((p) => {
						const t = p.message;
						const fmt = (v) => format_currency(v, t.currency);
						field.$wrapper.html(`<div class="xso-credit-preview text-right">
							${__("Subtotal")} ${fmt(t.subtotal)} · ${__("Tax")} ${fmt(t.total_tax)} ·
							<b>${__("Credit note total")} <span class="xso-credit-total">${fmt(t.total)}</span></b></div>`);
					})
					.catch(() => field.$wrapper.html(""));
			}, 300);
		};
		const dialog = new frappe.ui.Dialog({
			title: __("Credit invoice {0}", [xero_sales_orders.escape(invoice)]),
			size: "large",
			fields: [
				{
					fieldtype: "HTML",
					options: `<p class="text-muted">${__(
						"Set the quantity to credit on each line (at most what is invoiced and not yet credited); 0 leaves a line out."
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
						{ fieldname: "qty", fieldtype: "Float", label: __("Invoiced"), read_only: 1, in_list_view: 1, columns: 1 },
						{ fieldname: "creditable_qty", fieldtype: "Float", label: __("Creditable"), read_only: 1, in_list_view: 1, columns: 1 },
						{
							fieldname: "credit_qty",
							fieldtype: "Float",
							label: __("Qty to Credit"),
							in_list_view: 1,
							columns: 2,
							onchange: () => show_preview(),
						},
					],
				},
				{
					fieldname: "returns_to_order",
					fieldtype: "Select",
					label: __("The credited quantities"),
					reqd: 1,
					options: [
						{ value: "1", label: __("Go back to the order, to be invoiced again") },
						{ value: "0", label: __("Are only credited (a return or a discount)") },
					],
					default: "1",
				},
				{ fieldname: "preview", fieldtype: "HTML" },
			],
			primary_action_label: __("Credit in Xero"),
			primary_action(values) {
				const wanted = chosen();
				if (!wanted.length) {
					frappe.msgprint(__("Enter a quantity to credit on at least one line."));
					return;
				}
				frappe
					.call({
						method: `${XSO_INVOICES_API}.credit`,
						args: { invoice, lines: wanted, returns_to_order: cint(values.returns_to_order) },
						freeze: true,
						freeze_message: __("Crediting in Xero..."),
					})
					.then((res) => {
						const note = res.message;
						dialog.hide();
						frappe.show_alert({
							message: __("Credit note {0} ({1})", [
								xero_sales_orders.escape(note.name),
								xero_sales_orders.escape(__(note.push_state)),
							]),
							indicator: note.push_state === "Pushed" ? "green" : "orange",
						});
						on_done && on_done(note);
					});
			},
		});
		dialog.show();
		show_preview();
	});
};

// The credit notes of an invoice or order, as a table (texts escaped, links only when safe).
xero_sales_orders.credit_notes_html = function (rows, currency) {
	if (!rows.length) return "";
	const esc = xero_sales_orders.escape;
	const fmt = (v) => format_currency(v, currency);
	const body = rows
		.map((cn) => {
			const what = cn.raised_in_xero
				? __("Raised in Xero")
				: cn.returns_to_order
				? __("Quantities back to the order")
				: __("Credit only");
			const lines = (cn.lines || [])
				.map((l) => `${esc(l.item_code || l.description || "")} × ${esc(l.qty)}`)
				.join(", ");
			const error = cn.last_error ? `<div class="text-danger small">${esc(cn.last_error)}</div>` : "";
			const link = xero_sales_orders.link_html(cn.xero_url, __("View in Xero"));
			return `<tr class="xso-credit-note" data-credit-note="${esc(cn.name)}">
				<td><a href="/app/xero-credit-note/${encodeURIComponent(cn.name)}">${esc(cn.name)}</a>
					<div class="small">${link}</div></td>
				<td>${esc(cn.invoice || "")}</td>
				<td class="small">${esc(what)}<div class="text-muted">${lines}</div></td>
				<td class="xso-credit-status">${esc(cn.status || "")} · ${esc(__(cn.push_state || ""))}
					<div class="small text-muted">${esc(__(cn.allocation_state || ""))}</div>${error}</td>
				<td class="text-right">${fmt(cn.total)}</td>
				<td class="text-right">${fmt(cn.allocated_amount)}</td>
			</tr>`;
		})
		.join("");
	return `<h6 class="mt-3">${__("Credit notes")}</h6>
		<table class="table table-bordered table-sm xso-credit-notes">
		<thead><tr><th>${__("Credit Note")}</th><th>${__("Invoice")}</th><th>${__("Lines")}</th>
		<th>${__("Xero Status")}</th><th class="text-right">${__("Total")}</th>
		<th class="text-right">${__("Allocated")}</th></tr></thead><tbody>${body}</tbody></table>`;
};

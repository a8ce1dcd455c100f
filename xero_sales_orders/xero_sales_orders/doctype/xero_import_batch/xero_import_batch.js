// Copyright (c) 2026, Xero Sales Orders developers
// For license information, please see license.txt

const XSO_IMPORT_API = "xero_sales_orders.api.importing";
const XSO_IMPORT_PAGE = 50;
const XSO_IMPORT_VIEWS = [
	["all", __("All groups")],
	["importable", __("Orders to create")],
	["flagged", __("Flagged")],
	["conflicts", __("Conflicts")],
	["skipped", __("Skipped")],
];

// The batch's error and log may quote Xero's texts: shown as text, never as HTML.
xero_sales_orders.guard_text_fields("Xero Import Batch");

frappe.ui.form.on("Xero Import Batch", {
	onload(frm) {
		if (frm.is_new() && !frm.doc.from_date) {
			frm.set_value("from_date", frappe.datetime.add_months(frappe.datetime.get_today(), -12));
			frm.set_value("to_date", frappe.datetime.get_today());
		}
	},

	setup(frm) {
		frm.xso_view = { view: "all", start: 0, search: "" };
	},

	connection(frm) {
		xso_import_settings.organisations(frm);
	},

	tenant_id(frm) {
		xso_import_settings.contacts(frm);
	},

	refresh(frm) {
		xso_import_settings.render(frm);
		const colors = {
			Draft: "gray",
			Previewing: "orange",
			Previewed: "blue",
			Importing: "orange",
			Completed: "green",
			Stopped: "yellow",
			Failed: "red",
		};
		frm.page.set_indicator(__(frm.doc.status), colors[frm.doc.status] || "gray");
		if (frm.doc.error) frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.error), "red");
		const running = xso_import.running(frm);
		if (!frm.is_new() && !running) {
			// A preview that stopped before it finished goes on where it stopped.
			const unfinished = !frm.doc.previewed_at && ["Stopped", "Failed"].includes(frm.doc.status);
			frm.add_custom_button(unfinished ? __("Resume Preview") : __("Preview"), () => xso_import.preview(frm)).toggleClass(
				"btn-primary",
				["Draft", "Failed", "Stopped"].includes(frm.doc.status) && !frm.doc.previewed_at
			);
			if (frm.doc.previewed_at) {
				frm.add_custom_button(
					frm.doc.status === "Stopped" || (frm.doc.status === "Failed" && frm.doc.orders_created)
						? __("Resume Import")
						: __("Import"),
					() => xso_import.start(frm)
				).toggleClass("btn-primary", ["Previewed", "Failed", "Stopped"].includes(frm.doc.status));
			}
		}
		if (running) {
			frm.add_custom_button(__("Stop"), () => xso_import.stop(frm));
		}
		xso_import.watch(frm);
		if (frm.doc.orders_created) {
			frm.add_custom_button(__("View Orders ({0})", [frm.doc.orders_created]), () =>
				frappe.set_route("List", "Xero Sales Order", { import_batch: frm.doc.name })
			);
		}
		xso_import.listen(frm);
		xso_import.render(frm);
	},
});

// The batch's settings as a person picks them; stored as before (statuses as comma-separated text, contacts as
// one ContactID or name a line, the organisation as its tenant id), so REST callers send the same values.
const XSO_IMPORT_STATUSES = ["DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"];

const xso_import_settings = {
	render(frm) {
		frm.toggle_display(["statuses", "contacts"], false);
		xso_import_settings.statuses(frm);
		xso_import_settings.organisations(frm);
		xso_import_settings.contacts(frm);
	},

	statuses(frm) {
		const wrapper = frm.get_field("statuses_html").$wrapper;
		const chosen = (frm.doc.statuses || "").split(",").map((s) => s.trim().toUpperCase());
		const boxes = XSO_IMPORT_STATUSES.map(
			(status) => `<label class="checkbox-inline" style="margin-right: 1rem">
				<input type="checkbox" class="xso-status" value="${status}" ${chosen.includes(status) ? "checked" : ""}>
				${status}</label>`
		).join("");
		wrapper.html(`<div class="form-group">
			<label class="control-label">${__("Xero Statuses")}</label>
			<div class="xso-statuses">${boxes}</div>
			<p class="help-box small text-muted">${__("Invoices in these statuses are fetched from Xero.")}</p>
		</div>`);
		wrapper.find(".xso-status").prop("disabled", !frm.perm[0] || !frm.perm[0].write).on("change", () => {
			const picked = wrapper
				.find(".xso-status:checked")
				.map((i, el) => el.value)
				.get();
			frm.set_value("statuses", picked.join(","));
		});
	},

	organisations(frm) {
		if (!frm.doc.connection) {
			frm.set_df_property("tenant_id", "options", []);
			return;
		}
		frappe.call({ method: "xero_sales_orders.api.masters.organisations" }).then((r) => {
			const mine = (r.message || []).filter((o) => o.connection === frm.doc.connection);
			// Select options are written as HTML: an organisation's name is shown as text.
			const options = mine.map((o) => ({ value: o.tenant_id, label: xero_sales_orders.escape(o.tenant_name) }));
			frm.set_df_property("tenant_id", "options", options);
			if (!frm.doc.tenant_id && mine.length) {
				frm.set_value("tenant_id", (mine.find((o) => o.is_default) || mine[0]).tenant_id);
			} else {
				frm.refresh_field("tenant_id");
			}
		});
	},

	contacts(frm) {
		const wrapper = frm.get_field("contacts_html").$wrapper.empty();
		const stored = () =>
			(frm.doc.contacts || "")
				.split(/[\n,]/)
				.map((e) => e.trim())
				.filter(Boolean);
		const entries = stored();
		// Labels (escaped: the pills and the list write them as HTML) of every contact seen, by ContactID.
		const labels = {};
		const control = frappe.ui.form.make_control({
			parent: wrapper,
			df: {
				fieldtype: "MultiSelectPills",
				fieldname: "xso_contacts",
				label: __("Contacts"),
				placeholder: __("All contacts; type to pick some"),
				description: __("Only invoices of these synced Xero contacts are fetched."),
				read_only: !frm.perm[0] || !frm.perm[0].write,
				get_data: (txt) =>
					frappe
						.xcall("frappe.desk.search.search_link", {
							doctype: "Xero Contact",
							txt: txt || "",
							filters: {
								connection: frm.doc.connection || "",
								tenant_id: frm.doc.tenant_id || "",
							},
							page_length: 20,
						})
						.then((rows) =>
							(rows || []).map((row) => {
								labels[row.value] = xero_sales_orders.escape(row.label || row.value);
								return {
									value: row.value,
									label: labels[row.value],
									description: xero_sales_orders.escape(row.description || ""),
								};
							})
						),
				onchange() {
					const picked = control.get_value() || [];
					if (picked.join("\n") !== stored().join("\n")) {
						frm.set_value("contacts", picked.join("\n"));
					}
				},
			},
			render_input: true,
		});
		control.get_label = (value) => labels[value] || null;
		frm.xso_contacts_control = control;
		if (!entries.length) return;
		// Show the synced contacts' names for the stored ContactIDs.
		frappe
			.xcall("frappe.client.get_list", {
				doctype: "Xero Contact",
				filters: { name: ["in", entries] },
				fields: ["name", "contact_name"],
				limit_page_length: entries.length,
			})
			.then((rows) => {
				(rows || []).forEach((r) => (labels[r.name] = xero_sales_orders.escape(r.contact_name)));
				control.set_value(entries);
			});
	},
};

const xso_import = {
	running(frm) {
		return ["Previewing", "Importing"].includes(frm.doc.status);
	},

	preview(frm) {
		const run = () =>
			frappe.call({ method: `${XSO_IMPORT_API}.preview`, args: { batch: frm.doc.name } }).then(() => {
				// The preview runs in the background: show its bar at once (a small one may finish before the
				// first poll), then follow it.
				frm.xso_view.start = 0;
				frm.doc.status = "Previewing";
				frm.doc.previewed_at = null;
				xso_import.watch(frm);
				frm.reload_doc();
			});
		frm.is_dirty() ? frm.save().then(run) : run();
	},

	stop(frm) {
		frappe
			.call({ method: `${XSO_IMPORT_API}.stop`, args: { batch: frm.doc.name } })
			.then(() => frappe.show_alert({ message: __("Stopping after the current page"), indicator: "orange" }));
	},

	start(frm) {
		frappe.confirm(
			__("Create {0} orders from the previewed invoices?", [frm.doc.orders_to_create || 0]),
			() =>
				frappe
					.call({ method: `${XSO_IMPORT_API}.start`, args: { batch: frm.doc.name } })
					.then(() => {
						// Show the bar at once; the worker may finish before the first poll on a small batch.
						frm.doc.status = "Importing";
						frm.doc.orders_created = 0;
						xso_import.watch(frm);
					})
		);
	},

	progress(doc) {
		// What the batch says of its running job: [title, percent, description].
		if (doc.status === "Previewing") {
			let fetched = false;
			try {
				fetched = !!((JSON.parse(doc.fetch_cursor || "{}").cursor || {}).done);
			} catch (e) {
				fetched = false;
			}
			if (fetched || doc.invoices_grouped) {
				const total = doc.invoices_fetched || 0;
				return [
					__("Grouping invoices"),
					total ? ((doc.invoices_grouped || 0) * 100) / total : 0,
					__("{0} of {1} invoices grouped", [doc.invoices_grouped || 0, total]),
				];
			}
			const total = doc.invoices_total || 0;
			return [
				__("Fetching invoices from Xero"),
				total ? ((doc.invoices_fetched || 0) * 100) / total : 0,
				__("{0} of {1} invoices ({2} pages)", [doc.invoices_fetched || 0, total, doc.pages_fetched || 0]),
			];
		}
		const total = doc.orders_to_create || 0;
		return [
			__("Importing Xero invoices"),
			total ? ((doc.orders_created || 0) * 100) / total : 0,
			__("{0} of {1} orders", [doc.orders_created || 0, total]),
		];
	},

	watch(frm) {
		// Realtime progress needs the socket.io service; polling the batch keeps the bar moving without it.
		clearInterval(frm.xso_poll);
		if (!xso_import.running(frm)) return;
		const show = (doc) => frm.dashboard.show_progress(...xso_import.progress(doc));
		show(frm.doc);
		const fields = [
			"status",
			"orders_created",
			"orders_to_create",
			"invoices_fetched",
			"invoices_total",
			"invoices_grouped",
			"pages_fetched",
			"fetch_cursor",
		];
		frm.xso_poll = setInterval(() => {
			frappe.db.get_value("Xero Import Batch", frm.doc.name, fields).then((r) => {
				const v = r.message || {};
				if (!["Previewing", "Importing"].includes(v.status)) {
					clearInterval(frm.xso_poll);
					if (v.status === "Completed" || v.status === "Previewed") {
						// The bar ends full before the form shows what the job made.
						const [title] = xso_import.progress({ ...frm.doc, status: frm.doc.status });
						frm.dashboard.show_progress(title, 100, "");
					}
					frm.reload_doc();
				} else {
					show({ ...frm.doc, ...v });
				}
			});
		}, 1000);
	},

	listen(frm) {
		if (frm.xso_listening) return;
		frm.xso_listening = true;
		// publish_progress goes to this document's room; show it inline as well as in Frappe's dialog.
		frappe.realtime.on("progress", (data) => {
			if (cur_frm !== frm || !xso_import.running(frm)) return;
			const e = xero_sales_orders.escape;
			frm.dashboard.show_progress(e(data.title || __("Importing")), data.percent || 0, e(data.description || ""));
		});
		frappe.realtime.on("xero_import_done", (data) => {
			if (data && data.batch === frm.doc.name) {
				frappe.hide_progress();
				frm.reload_doc();
			}
		});
	},

	render(frm) {
		const wrapper = frm.get_field("preview_html").$wrapper;
		if (frm.is_new() || !frm.doc.previewed_at) {
			wrapper.html(
				`<p class="text-muted">${
					frm.doc.status === "Previewing"
						? __("The preview runs in the background; its groups show here when it has finished.")
						: __("Click Preview to see the orders this batch would create.")
				}</p>`
			);
			return;
		}
		const d = frm.doc;
		const stat = (label, value, color) =>
			`<div class="xso-stat" data-stat="${label}"><div class="text-muted small">${label}</div><div class="h5 ${color || ""}">${value || 0}</div></div>`;
		wrapper.html(`
			<div class="xso-import-summary" style="display:flex;gap:2rem;flex-wrap:wrap;margin-bottom:1rem">
				${stat(__("Invoices"), d.invoices_fetched)}
				${stat(__("Groups"), d.groups_count)}
				${stat(__("Orders to create"), d.orders_to_create, "text-success")}
				${stat(__("Skipped"), d.skipped_count, "text-muted")}
				${stat(__("Conflicts"), d.conflicts_count, "text-danger")}
				${stat(__("Orders created"), d.orders_created, "text-primary")}
			</div>
			<p class="text-muted small xso-voided-rule">${
				d.voided_as_demand
					? __("Voided and deleted invoices become demand: their quantities are ordered, still to invoice.")
					: __("Voided and deleted invoices are left out of the orders: they bill nothing.")
			}</p>
			<div style="display:flex;gap:.5rem;margin-bottom:.5rem">
				<select class="form-control input-xs xso-view" style="max-width:14rem">
					${XSO_IMPORT_VIEWS.map(([v, l]) => `<option value="${v}">${l}</option>`).join("")}
				</select>
				<input class="form-control input-xs xso-search" style="max-width:18rem" placeholder="${__("Search reference, contact, invoice")}">
				<span class="xso-count text-muted small" style="align-self:center"></span>
			</div>
			<div class="xso-table"></div>
			<div class="xso-pager" style="display:flex;gap:.5rem;margin-top:.5rem"></div>`);
		wrapper.find(".xso-view").val(frm.xso_view.view).on("change", function () {
			frm.xso_view.view = $(this).val();
			frm.xso_view.start = 0;
			xso_import.load(frm);
		});
		wrapper.find(".xso-search").val(frm.xso_view.search).on(
			"input",
			frappe.utils.debounce(function () {
				frm.xso_view.search = $(this).val();
				frm.xso_view.start = 0;
				xso_import.load(frm);
			}, 300)
		);
		xso_import.load(frm);
	},

	load(frm) {
		const wrapper = frm.get_field("preview_html").$wrapper;
		const v = frm.xso_view;
		frappe
			.call({
				method: `${XSO_IMPORT_API}.groups`,
				args: { batch: frm.doc.name, view: v.view, search: v.search, start: v.start, page_length: XSO_IMPORT_PAGE },
			})
			.then((r) => {
				const { rows, total, start } = r.message;
				wrapper.find(".xso-count").text(
					total ? __("{0}–{1} of {2}", [start + 1, Math.min(start + rows.length, total), total]) : __("No groups")
				);
				wrapper.find(".xso-table").html(xso_import.table(rows));
				const pager = wrapper.find(".xso-pager").empty();
				if (start > 0) {
					$(`<button class="btn btn-xs btn-default">${__("Previous")}</button>`)
						.appendTo(pager)
						.on("click", () => {
							v.start = Math.max(0, start - XSO_IMPORT_PAGE);
							xso_import.load(frm);
						});
				}
				if (start + rows.length < total) {
					$(`<button class="btn btn-xs btn-default">${__("Next")}</button>`)
						.appendTo(pager)
						.on("click", () => {
							v.start = start + XSO_IMPORT_PAGE;
							xso_import.load(frm);
						});
				}
			});
	},

	table(rows) {
		const e = frappe.utils.escape_html;
		const body = rows
			.map((row) => {
				const invoices = row.invoices
					.map((i) =>
						i.left_out
							? `<s>${e(i.number)}</s> <span class="text-muted">${e(i.status)} ${e(i.total)}</span> <span class="text-warning" data-left-out="${e(i.number)}">${__("left out")}: ${e(i.left_out)}</span>`
							: `${e(i.number)} <span class="text-muted">${e(i.status)} ${e(i.total)}</span>`
					)
					.join("<br>");
				const lines = row.lines
					.map((l) => {
						const invoiced = l.invoiced_qty === l.qty ? "" : ` <span class="text-warning">(${__("invoiced")} ${flt(l.invoiced_qty)})</span>`;
						const carried = l.carried ? ` <span class="text-muted" title="${__("Amounts as invoiced in Xero")}">(${e(l.line_amount)} + ${e(l.tax_amount)} ${__("as in Xero")})</span>` : "";
						return `${flt(l.qty)} × ${e(l.item_code || l.description)} @ ${e(l.unit_price)}${invoiced}${carried}`;
					})
					.join("<br>");
				const flags = row.flags
					.map((f) => `<div class="${f.blocking ? "text-danger" : "text-warning"}" data-flag="${e(f.code)}">${e(f.reason)}</div>`)
					.join("");
				const outcome = row.order
					? `<a href="/app/xero-sales-order/${encodeURIComponent(row.order)}">${e(row.order)}</a>`
					: row.importable
					? `<span class="indicator-pill green">${__("Will create")}</span>`
					: `<span class="indicator-pill ${row.conflict ? "red" : "gray"}">${row.conflict ? __("Conflict") : __("Skipped")}</span>`;
				return `<tr class="xso-group" data-key="${e(row.key)}">
					<td><b>${e(row.key)}</b><div class="text-muted small">${e(row.date || "")}</div></td>
					<td>${e(row.contact)}</td>
					<td>${e(row.currency)}<div class="text-muted small">${e(row.amount_type)}</div></td>
					<td class="small">${lines}</td>
					<td class="text-right">${row.grand_total ? e(row.grand_total) : ""}</td>
					<td class="small">${invoices}</td>
					<td class="small">${flags}</td>
					<td>${outcome}</td>
				</tr>`;
			})
			.join("");
		return `<div class="table-responsive"><table class="table table-bordered table-sm xso-preview-table" style="font-size:12px">
			<thead><tr><th>${__("Group")}</th><th>${__("Contact")}</th><th>${__("Currency")}</th><th>${__("Lines")}</th>
			<th class="text-right">${__("Total")}</th><th>${__("Invoices (already invoiced)")}</th><th>${__("Flags")}</th><th>${__("Order")}</th></tr></thead>
			<tbody>${body}</tbody></table></div>`;
	},
};

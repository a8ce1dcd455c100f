"""Imports queued before the import service was split name a method that no longer exists
(``xero_sales_orders.services.importing.run_import``): a worker would fail to load it and leave the batch
Importing, where the form offers neither Preview nor Import. Each such job, still queued or already failed,
is queued again under ``import_runner.run_import`` with the batch's job id (the import skips what a
re-run finds written); one that a worker is running finishes as it started. Only a site with a batch
Importing asks the job queue (Redis) anything, so the patch needs the queue up only where a job may wait."""

import frappe
from frappe.utils.background_jobs import get_job
from rq.job import JobStatus

from xero_sales_orders.services.import_runner import enqueue_import
from xero_sales_orders.services.import_settings import BATCH, IMPORTING

OLD_RUN_IMPORT = "xero_sales_orders.services.importing.run_import"


def execute():
	for batch in frappe.get_all(BATCH, {"status": IMPORTING, "job_id": ["is", "set"]}, ["name", "job_id"]):
		job = get_job(batch.job_id)
		if job is None or job.kwargs.get("method") != OLD_RUN_IMPORT or job.get_status() == JobStatus.STARTED:
			continue
		job.delete()
		enqueue_import(batch.name, batch.job_id)

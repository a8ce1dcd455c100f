# Copyright (c) 2026, Xero Sales Orders developers
# For license information, please see license.txt

# The doors of the preview's rows are tested for both doctypes in ../xero_import_group/test_xero_import_group.py;
# what the preview stores here is tested in ../xero_import_batch/test_xero_import_batch.py.

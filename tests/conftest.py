import sys
from pathlib import Path

# The pure tiers import the app package straight from the checkout, without Frappe.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from setuptools import find_packages, setup

# pyproject.toml carries the metadata; this file lets older tooling install the app as well.
# Only the app is distributed: the checkout's development packages beside it (xero_sandbox, xso_devkit,
# benchmarks, tests, tools) stay out of what `bench get-app` / `pip install` installs.
setup(
	packages=find_packages(include=("xero_sales_orders", "xero_sales_orders.*")),
	include_package_data=True,
	zip_safe=False,
)

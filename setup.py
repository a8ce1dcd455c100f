from setuptools import find_packages, setup

# pyproject.toml carries the metadata; this file lets older tooling install the app as well.
setup(packages=find_packages(exclude=("tests", "tests.*", "benchmarks")), include_package_data=True, zip_safe=False)

.PHONY: lab test setup bench

lab:   ## set up, then open notebooks/01_quickstart.ipynb in JupyterLab on the demo workspace
	scripts/lab.sh

test:  ## set up (venvs, JS build, Chromium), then run every test
	scripts/test.sh

setup:
	scripts/setup.sh --browser

bench: setup
	.venv/bin/python -m benchmarks

# Two commands on a fresh machine with Python 3 and make: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SHEET  := extraction/il2_crc_response.csv

.PHONY: demo test clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/metail2 pool $(SHEET) --measure PLO --by route
	$(BIN)/metail2 plot $(SHEET) --measure PLO --by route --prediction \
	    -o out/il2_response_by_route.png -o out/il2_response_by_route.svg
	$(BIN)/metail2 report $(SHEET) --measure PLO --by route -o out/il2_report.html

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_pool.py
	$(BIN)/python benchmarks/bench_parse.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_store.py

clean:
	rm -rf $(VENV) build *.egg-info

# Replay dead-letter queues after a fix (tools/redrive.py): the local stack by default,
# a deployed one with STACK=name. Included by the root Makefile.
.PHONY: redrive
redrive: venv
	$(PY) -m tools.redrive $(if $(STACK),--stack $(STACK),) $(if $(QUEUE),--queue $(QUEUE),)

"""Turning an uploaded original into a `ready` (or `failed`) record: the part every processor
shares — claim, re-check, run the kind-specific work, write variants, finish — independent of
how the event arrived."""

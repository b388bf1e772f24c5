"""The SQL both engines run alike, written once: one mixin per aggregate, over the executor in
executor.py. Each engine's modules of the same names add only what differs."""

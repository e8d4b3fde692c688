"""Pure domain: records and their status machine, kinds, keys, access rules, errors, units.
Knows nothing of AWS, HTTP or events."""

"""The stages a unit's email flows through: fetch, keep, parse, identify, extract, validate,
store, reply, send. `pipeline.poll` runs them in order; every other module is one stage."""

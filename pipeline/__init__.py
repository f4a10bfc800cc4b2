"""The stages a unit's email flows through, each a module with one job and no database:
fetch (the mailbox), parse, guard, triage, unpack, extract (formats, layout, legacy fonts,
documents), validate, annotate, reply, envelope and send (the transports); and the pure
read-side stages the Department's mailings use: consolidate, digest, export, remind.
`service.intake` runs them in order."""

"""The shared vocabulary at the bottom of the tree: text helpers, every state and kind, the
campaign's schema, plain data models, counting and wording. It imports nothing of ours, so
`config`, `pipeline`, `storage` and the service above them can all speak it."""

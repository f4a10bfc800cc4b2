"""The database: table models, migrations and the queries the pipeline and the CLI need."""

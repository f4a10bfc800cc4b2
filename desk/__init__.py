"""The Department's desk: a server-rendered web application over the same database, where
officers see the whole campaign without a terminal. It reads the one read model
(`storage.read_model`) the digest and `intake status` read; every route declares who may see it
(`desk.security`)."""

"""Sample data makers: nomination workbooks and unit emails shaped like the real ones. Used by
the demo mailbox and by the tests; not part of the installed service."""

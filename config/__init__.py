"""Settings (where the mailbox, database and files are) and campaign data (units, allocation,
deadline, awards). Both are loaded and checked here; the rest of the code receives them."""

"""The service: the pipeline's stages and the database put together into the jobs the program
runs (the intake cycle, delivering the outbox, the scheduled mailings), and `App`, which builds
them from the settings. It sits above `pipeline` and `storage` and below `scheduler` and `cli`."""

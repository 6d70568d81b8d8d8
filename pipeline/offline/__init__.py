"""The offline `rate` command: one process, no servers, the same engine as the stream."""

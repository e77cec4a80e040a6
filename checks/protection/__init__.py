"""Protection against malicious code (SecNumCloud 12.4.a): a running agent with fresh signatures."""

"""Logs (SecNumCloud 12.6.c, 12.7): retention of at least six months."""

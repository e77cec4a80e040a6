"""Audit events generated on the hosts (SecNumCloud 12.6.b): auditd and its rules."""

"""Access control (SecNumCloud 9.5.b): an account is locked after repeated failed authentications, in the configuration
(pam_faillock in sshd's auth stack, a bounded `deny`) and in behaviour (a canary account really locked, then reset).
Their parameters sit under the profile's `access` section."""

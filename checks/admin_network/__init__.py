"""Administration plane and egress as the network shows them (13.2.c clear-text admin protocols, 9.7.c admin
network separated, 12.14.a outbound flows through the proxies, 13.2.d web application firewall)."""

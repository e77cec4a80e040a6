"""Internal flows protected (13.2.b, 10.2.d): the control plane's store (etcd) encrypted and authenticated by
certificate, IPsec per the ANSSI technical note (IKEv2 only, AEAD, PFS groups, certificates), tunnels up."""

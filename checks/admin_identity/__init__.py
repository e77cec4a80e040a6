"""Administration identities separated (9.6.a-d): the provider's consoles and the customers' log in against distinct
directories, are distinct interfaces, and neither side's administrator gets into the other side's console."""

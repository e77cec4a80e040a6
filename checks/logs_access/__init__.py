"""Least privilege of logging (SecNumCloud 12.7.e): log daemons without root, logs closed to other users."""

"""The profiles preuve ships (installed as the package data of `preuve_profiles`): `-p secnumcloud-3.2` or
`-p ci-quick` names one of these files, so a wheel install needs no checkout to find them."""

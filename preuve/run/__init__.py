"""The driver of a whole run, above every other layer: the pytest plugin (entry point `pytest11`), the run state,
the observation phase and the report phase. Nothing below imports it: each layer gets plain values from here.
"""

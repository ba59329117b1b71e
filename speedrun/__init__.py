"""speedrun: how fast plain Python trains the talk's MNIST model.

The core (``idx``, ``dataset``, ``engines``, ``training``) runs on a bare
interpreter, CPython or PyPy, with the standard library alone; NumPy is
imported only by the NumPy engine, rich only by the command line when it
is installed, pyperf only by the bench scripts.
"""

__version__ = "0.1.0"

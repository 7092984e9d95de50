// Compiles tests/pch.hpp once for the unit tests that reuse it.

"""Pure-Python calculators behind every numeric answer key (checked against Keras in tests)."""

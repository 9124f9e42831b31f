"""cocotb testbenches of the generated RTL: reference, driver, monitor, scoreboard, tests."""

"""The private core every layer may use: errors, atomic writes, the run layout, tool discovery."""

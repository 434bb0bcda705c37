"""Hardware seams: gpiozero devices (pin factory), the I2C thermometer (SMBus-like), camera."""

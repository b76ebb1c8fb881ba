"""Exporters: one metrics table rendered for Prometheus, Graphite, InfluxDB and MQTT."""

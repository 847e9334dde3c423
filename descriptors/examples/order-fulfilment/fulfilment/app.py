"""Sends paid orders to the warehouse and books a carrier for each parcel."""


def main() -> None:
    print("fulfilment-service: consuming order-paid")

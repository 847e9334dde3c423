package com.acmeretail.cart;

/** Keeps a shopper's basket and places the order when they pay. */
public final class CartService {
    public Basket basketOf(String shopperId) {
        return Basket.empty(shopperId);
    }
}

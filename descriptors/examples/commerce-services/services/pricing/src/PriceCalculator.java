package com.acmeretail.pricing;

import java.math.BigDecimal;

/** The price a shopper pays for one article today, promotions included. */
public final class PriceCalculator {
    public BigDecimal priceOf(String articleId, String region) {
        return BigDecimal.ZERO;
    }
}

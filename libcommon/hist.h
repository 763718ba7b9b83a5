/* hist: placeholder */

/* key: placeholder */

/* child: placeholder */

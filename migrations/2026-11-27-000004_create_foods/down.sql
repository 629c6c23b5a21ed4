DROP TABLE foods;
